"""A local Bybit V5 exchange: REST and WebSocket on localhost, backed by the simulated exchange.

Point any Bybit client at it (ccxt, pybit, tradeplay's own adapter) to paper trade offline or
to test against real HTTP and WebSocket, faults included. See :mod:`.server` for running it,
:mod:`.market` for the replay, :mod:`.venue` for how orders map onto the simulator, and
:mod:`.faults` for the faults it can throw.
"""

from tradeplay.emulator.config import AccountSpec, Pace, ReplaySpeed, load_accounts, parse_account
from tradeplay.emulator.faults import FaultKind, FaultRule, Faults, parse_fault
from tradeplay.emulator.market import Market
from tradeplay.emulator.server import Emulator, EmulatorOptions, EmulatorThread, WallClock

__all__ = [
    "AccountSpec",
    "Emulator",
    "EmulatorOptions",
    "EmulatorThread",
    "FaultKind",
    "FaultRule",
    "Faults",
    "Market",
    "Pace",
    "ReplaySpeed",
    "WallClock",
    "load_accounts",
    "parse_account",
    "parse_fault",
]
