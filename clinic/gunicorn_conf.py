"""gunicorn's settings for the web service (docker-compose.yml: `--config python:clinic.gunicorn_conf`).

The access log names each request by its route (clinic/logs.py): no address, query string, token or referrer.
"""

accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = "clinic.logs.GunicornLogger"
