"""The site's settings with one lane, as before issue 28, for bench/lanes.py's comparison: the urgent lane's
queue is the routine one, so an emergency's staff e-mail waits in line with everything else."""

from clinic.settings import *  # noqa: F403

CELERY_URGENT_QUEUE = CELERY_TASK_DEFAULT_QUEUE  # noqa: F405
