from tests.runtime.harness import fake_openai, worker, world  # noqa: F401  (fixtures)
