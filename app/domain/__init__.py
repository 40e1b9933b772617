"""The domain core: models and services, plain Python and SQLAlchemy, no Flask imports."""
