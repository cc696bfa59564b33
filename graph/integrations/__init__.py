"""GraphQL of integrations: types, queries (integrationTypes, integration) and mutations."""
