
from hypothesis import HealthCheck, settings

# A profile of this directory's own, applied per test with @settings(parent=...), so that the
# project-wide profile loaded in tests/conftest.py is left alone. Derandomized under CI=true.
settings.register_profile(
    "partition-ci", derandomize=True, max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "partition-dev", max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
