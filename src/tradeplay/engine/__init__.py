"""The one engine: monitors, sizing, risk checks, execution, wired from the ports."""
