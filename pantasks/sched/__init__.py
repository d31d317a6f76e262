"""The scheduler: tasks, jobs, time ranges, and the loop that runs them."""
