"""The commands: one way to build the kiosk from its config (`assembly`), and what each command
does with it: `run` and `calibrate` through the CLI (`cli`), `analyze`, `bench`, `check`
(`selfcheck`), `report`, and the service manager's notifications (`notify`).  Only the CLI exits.

May import: everything below it.
"""
