"""What an operator watches: the figures read from the database (figures.py) and the Prometheus endpoint that
serves them (metrics.py). Read only; nothing here writes."""
