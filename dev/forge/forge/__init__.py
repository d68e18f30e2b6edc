"""pagesmith-forge: a local GitHub look-alike (REST subset, real git, Pages) for dev and tests.

Build it in-process with ``forge.app.create_app(ForgeSettings(data_dir=...))`` or run
``pagesmith-forge``; see dev/forge/README.md for the URL layout and the control API.
"""
