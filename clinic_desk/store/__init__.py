"""The data layer: database setup, models, migrations. Knows nothing of services or front ends."""
