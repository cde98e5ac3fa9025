"""Bybit's public market endpoints over the replayed market (reference §6.1 to 6.5).

Nothing here needs a key. Every answer is cut at the replay clock: the emulator never shows
a bar, a funding rate or a ticker from after the last bar it revealed.
"""

from __future__ import annotations

from tradeplay.domain.instrument import Instrument
from tradeplay.domain.values import format_decimal
from tradeplay.emulator.errors import BybitError
from tradeplay.emulator.market import Market
from tradeplay.emulator.params import Params

__all__ = [
    "account_info",
    "api_key_info",
    "funding_history",
    "instrument_item",
    "instruments",
    "kline",
    "server_time",
    "tickers",
]


def server_time(now_ms: int) -> dict[str, object]:
    """``/v5/market/time``: the wall clock, which clients compare their signing clock with."""
    return {"timeSecond": str(now_ms // 1000), "timeNano": str(now_ms * 1_000_000)}


def kline(market: Market, params: Params) -> dict[str, object]:
    category = params.category("linear")
    symbol = params.text("symbol")
    interval = params.text("interval")
    limit = params.integer("limit", 200)
    if not 1 <= limit <= 1000:
        raise BybitError.params("limit invalid: 1 to 1000")
    if category != "linear":
        return {"category": category, "symbol": symbol, "list": []}
    start = params.integer("start") if params.has("start") else None
    end = params.integer("end") if params.has("end") else None
    rows = market.get(symbol).kline_rows(interval, start, end, limit)
    return {"category": category, "symbol": symbol, "list": rows}


def tickers(market: Market, params: Params) -> dict[str, object]:
    category = params.category()
    if category != "linear":
        return {"category": category, "list": []}
    chosen = (
        [market.get(params.text("symbol"))]
        if params.has("symbol")
        else [s for s in market.symbols.values() if s.cursor]
    )
    return {"category": category, "list": [s.ticker(market.now_ms) for s in chosen]}


def funding_history(market: Market, params: Params) -> dict[str, object]:
    category = params.category()
    symbol = params.text("symbol")
    limit = params.integer("limit", 200)
    if not 1 <= limit <= 200:
        raise BybitError.params("limit invalid: 1 to 200")
    if params.has("startTime") and not params.has("endTime"):
        # Bybit refuses startTime alone (reference §6.5).
        raise BybitError.params("endTime is required when startTime is given")
    if category != "linear":
        return {"category": category, "list": []}
    start = params.integer("startTime") if params.has("startTime") else None
    end = params.integer("endTime") if params.has("endTime") else None
    rows = market.get(symbol).funding_rows(start, end, limit, market.now_ms)
    return {"category": category, "list": rows}


def instruments(market: Market, params: Params) -> dict[str, object]:
    """Only the replayed symbols, all ``Trading``; ``status=PreLaunch`` and other categories
    are empty lists (ccxt asks for both, reference §13.3)."""
    category = params.category()
    status = params.text("status", "Trading")
    items: list[dict[str, object]] = []
    if category == "linear" and status == "Trading":
        chosen = (
            [market.get(params.text("symbol"))]
            if params.has("symbol")
            else list(market.symbols.values())
        )
        first_ms = {s.symbol: int(s.bars[0, 0]) for s in chosen}
        items = [instrument_item(s.instrument, first_ms[s.symbol]) for s in chosen]
    return {"category": category, "list": items, "nextPageCursor": ""}


def instrument_item(instrument: Instrument, launch_ms: int) -> dict[str, object]:
    """Bybit's linear instrument object from tradeplay's instrument definition."""
    tick = instrument.tick_size.normalize()
    exponent = tick.as_tuple().exponent
    scale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    minutes = int(instrument.funding_interval.total_seconds() // 60)
    return {
        "symbol": instrument.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": instrument.base,
        "quoteCoin": instrument.quote,
        "settleCoin": instrument.settle,
        "symbolType": "",
        "launchTime": str(launch_ms),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(scale),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": format_decimal(instrument.max_leverage),
            "leverageStep": format_decimal(instrument.leverage_step),
        },
        "priceFilter": {
            "minPrice": format_decimal(instrument.min_price),
            "maxPrice": format_decimal(instrument.max_price),
            "tickSize": format_decimal(instrument.tick_size),
        },
        "lotSizeFilter": {
            "maxOrderQty": format_decimal(instrument.max_qty),
            "minOrderQty": format_decimal(instrument.min_qty),
            "qtyStep": format_decimal(instrument.qty_step),
            "postOnlyMaxOrderQty": format_decimal(instrument.max_qty),
            "maxMktOrderQty": format_decimal(instrument.max_market_qty),
            "minNotionalValue": format_decimal(instrument.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": minutes,
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "copyTrading": "none",
        "displayName": "",
        "forbidUplWithdrawal": False,
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "isPreListing": False,
        "preListingInfo": None,
    }


def account_info(updated_ms: int) -> dict[str, object]:
    """``/v5/account/info``: a unified trading account (UTA 2.0) in regular (cross) margin."""
    return {
        "unifiedMarginStatus": 5,
        "marginMode": "REGULAR_MARGIN",
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
        "updatedTime": str(updated_ms),
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
    }


def api_key_info(api_key: str, name: str) -> dict[str, object]:
    """``/v5/user/query-api``: a read-write UTA key with contract trading permissions."""
    return {
        "id": "1",
        "note": name,
        "apiKey": api_key,
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": [],
            "Wallet": [],
            "Options": [],
            "Derivatives": ["DerivativesTrade"],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": [],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
            "FiatP2P": [],
            "FiatBybitPay": [],
            "FiatConvertBroker": [],
            "FiatGlobalPay": [],
            "FiatBitPay": [],
            "BitCard": [],
            "ByXPost": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": "",
        "unified": 0,
        "uta": 1,
        "userID": 1,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
        "userIDInt64": "1",
        "inviterIDInt64": "0",
        "affiliateIDInt64": "0",
    }
