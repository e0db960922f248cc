"""PostgreSQL access: one module of named queries per aggregate."""
