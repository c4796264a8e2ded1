"""ISO 4217 currencies: which codes exist and how many decimals (minor unit) each has,
and how an amount reads in Korean and English mail."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MINOR_UNITS = {
    **dict.fromkeys(
        _codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"),
        0,
    ),
    **dict.fromkeys(_codes("BHD IQD JOD KWD LYD OMR TND"), 3),
    **dict.fromkeys(_codes("CLF UYW"), 4),
}
"""The currencies whose minor unit is not 2 decimals."""

CODES = frozenset(
    _codes(
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL "
        "BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK "
        "DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR "
        "ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD "
        "LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK "
        "NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD "
        "SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD "
        "USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG"
    )
)
"""The active ISO 4217 codes of national and supranational currencies."""

KOREAN_UNITS = {"KRW": "원", "JPY": "엔", "USD": "달러", "EUR": "유로", "CNY": "위안"}


def is_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency code (capital letters)."""
    return code in CODES


def decimals(code: str) -> int:
    """The currency's minor unit: KRW and JPY 0, USD and EUR 2, KWD 3."""
    return MINOR_UNITS.get(code, 2)


def rounded(amount: Decimal, code: str) -> Decimal:
    """``amount`` to the currency's minor unit, halves rounded up (away from zero)."""
    return amount.quantize(Decimal(1).scaleb(-decimals(code)), rounding=ROUND_HALF_UP)


def grouped(amount: Decimal, code: str) -> str:
    """``amount`` with thousands separators and the currency's decimals: ``45,000``,
    ``1,234.50``."""
    return f"{rounded(amount, code):,.{decimals(code)}f}"


def money(amount: Decimal, code: str, language: str) -> str:
    """An amount as a mail says it: ``45,000원``, ``12.50달러`` or ``12.50 CHF`` in Korean,
    ``KRW 45,000`` in English."""
    figure = grouped(amount, code)
    if language == "ko":
        unit = KOREAN_UNITS.get(code)
        return f"{figure}{unit}" if unit else f"{figure} {code}"
    return f"{code} {figure}"
