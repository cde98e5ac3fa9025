"""The one exception hierarchy of tradeplay, grouped by what the caller does next.

::

    TradeplayError
    ├── TemporaryError            retry: wait, back off, try again (at most a few times)
    │   ├── VenueUnavailableError     the venue did not answer, answered 5xx, or dropped the socket
    │   ├── RateLimitedError          the venue asked us to slow down
    │   └── StoreBusyError            a dataset is locked by another writer for too long
    ├── RejectedError             report to the user and continue with the next thing
    │   ├── InstrumentRuleError       price / quantity / notional outside the instrument's rules
    │   ├── OrderRejectedError        the venue or the simulator refused an order
    │   ├── VenueRejectedError        the venue understood a request and refused it
    │   ├── InvalidTransitionError    an order event that its current status does not allow
    │   │   └── OverfillError             a fill larger than what is left of the order
    │   ├── RiskVetoError             a risk limit forbids the intended action
    │   ├── InputError                bad user input: a file, a field or an argument
    │   │   ├── DataValidationError       a candle / funding file breaks a rule (file, row, rule)
    │   │   ├── ConfigError               a settings value or config file is wrong
    │   │   ├── InstrumentDefinitionError an instrument definition contradicts itself
    │   │   └── UnknownInstrumentError    a symbol that tradeplay has no definition for
    │   └── DataNotFoundError         a dataset or a time range that is not stored
    └── FatalError                stop: continuing would risk money or data
        ├── StateCorruptionError      stored state contradicts itself
        └── LedgerImbalanceError      cash, positions, fees and funding no longer add up

A rejected order or a risk veto is usually a *value* returned to the engine; these classes are
for the places where raising is the clearer contract (bad input, programming errors caught at the
domain boundary). Every message is written for a trader: what was wrong and what was expected.
"""

from __future__ import annotations


class TradeplayError(Exception):
    """Root of every error tradeplay raises on purpose."""


class TemporaryError(TradeplayError):
    """The same call may succeed later: retry with backoff."""


class VenueUnavailableError(TemporaryError):
    """The venue did not answer, answered with a server error, or dropped the connection."""


class RateLimitedError(TemporaryError):
    """The venue asked us to slow down."""


class StoreBusyError(TemporaryError):
    """A dataset stayed locked by another writer longer than we were willing to wait."""


class RejectedError(TradeplayError):
    """This one thing cannot be done; report it and carry on with the rest."""


class InstrumentRuleError(RejectedError):
    """A price, quantity or notional value breaks the instrument's trading rules."""


class OrderRejectedError(RejectedError):
    """The venue or the simulated exchange refused an order."""


class VenueRejectedError(RejectedError):
    """The venue understood a request and refused it (bad parameter, unsupported call …).

    Not a temporary fault: asking again unchanged gets the same answer. The message carries the
    venue's own words.
    """


class InvalidTransitionError(RejectedError):
    """An order received an event that its current status does not allow."""


class OverfillError(InvalidTransitionError):
    """A fill would take an order's filled quantity above its quantity."""


class RiskVetoError(RejectedError):
    """A risk limit forbids the intended action."""


class InputError(RejectedError):
    """Bad input from the user: a file, a field or a command-line argument."""


class DataValidationError(InputError):
    """A candle or funding file breaks a validation rule.

    Carries where (file, row) and which rule, so the message can point the trader at the line.
    """

    def __init__(self, source: str, rule: str, detail: str, row: int | None = None) -> None:
        self.source = source
        self.row = row
        self.rule = rule
        self.detail = detail
        where = f"{source}, row {row}" if row is not None else source
        super().__init__(f"{where}: rule '{rule}' failed: {detail}")


class ConfigError(InputError):
    """A settings value or a config file is wrong."""


class InstrumentDefinitionError(InputError):
    """An instrument definition (ours or the venue's) breaks its own invariants.

    For example a tick size that is not positive, a minimum quantity above the maximum, or
    margin tiers that are not in increasing order of position value.
    """


class UnknownInstrumentError(InputError):
    """A symbol tradeplay has no instrument definition for."""


class DataNotFoundError(RejectedError):
    """A dataset, or the asked-for time range of one, is not in the store."""


class FatalError(TradeplayError):
    """Continuing would risk money or data: stop."""


class StateCorruptionError(FatalError):
    """Stored state contradicts itself."""


class LedgerImbalanceError(FatalError):
    """Cash, positions, fees and funding no longer add up."""
