"""Load profiles: locust traffic judged by the shared history checker."""
