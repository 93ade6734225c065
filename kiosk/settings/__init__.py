"""The settings: one typed configuration with its defaults, ranges and documentation
(`config`), read from TOML with errors that name the key (`config_file`), and where the model
files are found (`model_files`).

May import: kiosk.core.
"""
