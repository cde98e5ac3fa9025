"""Alembic migrations, shipped inside the package so ``pip install`` carries them.

Revisions are written by hand with explicit ``op.create_table`` calls (never importing the
current tables), so an old revision keeps building the schema it built when it was written.
"""
