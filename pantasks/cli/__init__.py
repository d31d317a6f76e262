"""Entry points: the standalone shell, the server, the client, the agent."""
