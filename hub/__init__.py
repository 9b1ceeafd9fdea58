"""The hub server: commands, database, migrations, scheduler, settings and the CLI."""
