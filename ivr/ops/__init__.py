"""Operations for hotlines run on several hosts: Prometheus metrics at /metrics, and logs as JSON lines."""


def init_app(app):
    """Log in IVR_LOG_FORMAT, count the voice webhooks, and serve /metrics."""
    # Imported here rather than at the top: gunicorn's master imports ivr.ops.gunicorn before it sets
    # PROMETHEUS_MULTIPROC_DIR, and prometheus_client picks its storage once, when it is first imported.
    from ivr.ops import logs, metrics

    logs.init_app(app)
    metrics.init_app(app)
