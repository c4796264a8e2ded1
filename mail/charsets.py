"""Charset decoding that never raises, with the Korean aliases mail really uses.

Python maps ``ks_c_5601-1987`` (Outlook) and ``euc-kr`` to EUC-KR, which cannot decode
cp949 syllables such as 똠, 햏, 뷁; both are decoded as cp949 here.

Raw 8-bit header text carries no label. Its charset is decided once per message
(``header_charset``): a charset the message labels elsewhere (a text part, an encoded word)
when it reads plausibly, else the most plausible strict decode among cp949, GBK, Shift_JIS,
Windows-1252 and Windows-1250 (``guess``), so the Subject and the display names agree.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable, Iterable
from email.header import decode_header

from charset_normalizer import from_bytes

ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ks_c_5601_1987": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "euckr": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "uhc": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_WORD_CHARSET = re.compile(r"=\?([^?\s*]+)[^?\s]*\?[bBqQ]\?")
_OPEN_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\??$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WEAK_LABELS = frozenset({"us-ascii", "ascii", "iso-8859-1", "latin1", "utf-8", "utf8"})
"""Labels that say nothing about 8-bit header text (defaults, or already tried)."""
SAMPLE_BYTES = 4096
"""Detection reads at most this much raw text."""
HINT_PLAUSIBLE = 0.6


def codec_for(label: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None when unknown."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    name = ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, label: str | None) -> str:
    """Decode ``data`` labelled ``label``; unknown or wrong labels fall back to detection."""
    codec = codec_for(label)
    if codec == "cp1252" and not data.isascii():
        try:
            return data.decode("utf-8")  # UTF-8 labelled Latin-1 (web forms); never the reverse
        except UnicodeDecodeError:
            pass
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if len(data) <= 200_000:
        best = from_bytes(data).best()
        if best is not None and best.encoding:
            guessed = codec_for(best.encoding) or "utf-8"
            return data.decode(guessed, errors="replace")
    try:
        return data.decode("cp949")
    except UnicodeDecodeError:
        return data.decode(codec or "utf-8", errors="replace")


def decode_header_value(raw: str, charset: str | None = None) -> str:
    """Decode a header value: RFC 2047 encoded words and raw 8-bit bytes (as ``charset``
    when given, see ``header_charset``); never raises."""
    if "=?" not in raw:
        return decode_unencoded(raw, charset)
    try:
        parts = decode_header(_join_adjacent_words(_close_last_word(raw)))
    except Exception:
        return decode_unencoded(raw, charset)
    text = []
    for chunk, label in parts:
        if isinstance(chunk, str):
            text.append(_undo_surrogates(chunk, charset))
        elif label is None:  # text between encoded words, handed back escaped
            text.append(_undo_surrogates(chunk.decode("raw-unicode-escape"), charset))
        else:
            text.append(decode_bytes(chunk, label))
    return _clean("".join(text))


def decode_unencoded(raw: str, charset: str | None = None) -> str:
    """Decode header text without looking for encoded words (raw 8-bit bytes only)."""
    return _clean(_undo_surrogates(raw, charset))


def header_charset(values: Iterable[str], labels: Iterable[str | None]) -> str | None:
    """The codec for the raw 8-bit text of one message's headers (``values`` as compat32
    gives them), or None when there is none or it is UTF-8: the first of ``labels`` (the
    message's own charset labels) that decodes it plausibly, else ``guess``."""
    data = b" ".join(_eight_bit(value) for value in values if _escaped(value))[:SAMPLE_BYTES]
    if not data or _decodes(data, "utf-8") is not None:
        return None
    for label in labels:
        codec = codec_for(label)
        if codec is None or (label or "").strip().strip('"').lower() in WEAK_LABELS:
            continue
        text = _decodes(data, codec)
        if text is not None and plausibility(text, codec) >= HINT_PLAUSIBLE:
            return codec
    return guess(data)


def labels_in(value: str) -> list[str]:
    """The charsets named by the encoded words of a header value."""
    return _WORD_CHARSET.findall(value)


def guess(data: bytes) -> str:
    """The candidate whose strict decode of ``data`` reads most plausibly (ties: the
    earlier candidate); Windows-1252 when none decodes."""
    best, best_score = "cp1252", -1.0
    for codec in CANDIDATES:
        text = _decodes(data[:SAMPLE_BYTES], codec)
        if text is not None and (score := plausibility(text, codec)) > best_score:
            best, best_score = codec, score
    return best


def plausibility(text: str, codec: str) -> float:
    """How much ``text`` (decoded as ``codec``) reads like the languages written in that
    charset, from 0 to 1, judged on its non-ASCII characters."""
    marks = [index for index, ch in enumerate(text) if not ch.isascii()]
    if not marks:
        return 1.0
    weigh = _CJK.get(codec)
    if weigh is not None:
        return sum(weigh(text[index]) for index in marks) / len(marks)
    languages = [set(letters + letters.upper()) for letters in _LETTERS.get(codec, ())]
    if not languages:
        languages = [{text[index] for index in marks if text[index].isalpha()}]
    best = max(sum(_latin(text, index, letters) for index in marks) for letters in languages)
    return best / len(marks)


def _latin(text: str, index: int, letters: set[str]) -> float:
    """One non-ASCII character of single-byte text: a letter of the language reads well
    next to an ASCII letter, less well among other non-ASCII characters (CJK bytes read
    as Latin give runs of those); punctuation reads well unless it splits a word."""
    ch = text[index]
    before = text[index - 1] if index else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    if ch in _PUNCTUATION:
        return 0.0 if before.isalpha() and after.isalpha() else 1.0
    if ch not in letters or _MISFIT.match(text, index):
        return 0.0
    return 1.0 if _ascii_letter(before) or _ascii_letter(after) else 0.6


def _ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _join_adjacent_words(raw: str) -> str:
    return re.sub(r"\?=\s+=\?", "?==?", raw)


def _escaped(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _eight_bit(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _decodes(data: bytes, codec: str) -> str | None:
    """``data`` decoded strictly, a sequence cut at the end of a sample forgiven."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(data, final=len(data) < SAMPLE_BYTES)
    except (UnicodeDecodeError, LookupError):
        return None


def _undo_surrogates(text: str, charset: str | None = None) -> str:
    """compat32 hands 8-bit header bytes over as surrogate escapes: decode them as UTF-8,
    else as ``charset``, else as ``guess`` finds."""
    if not _escaped(text):
        return text
    data = _eight_bit(text)
    for codec in filter(None, ("utf-8", charset)):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(guess(data), errors="replace")


def _common_cjk(ch: str) -> float:
    """CJK punctuation and full-width forms read well in any CJK charset."""
    return 1.0 if "\u3000" <= ch <= "\u303f" or "\uff01" <= ch <= "\uff5e" else 0.1


def _han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


FREQUENT_HANGUL = frozenset(
    "이다의는에하고가을지서로기사한있도를자리어대나시아수인정전니보해일제부요게주상면과것만들"
    "문구거내원성장공화동여경무유세비오관중마우신조라소적실입개방회업위후본안모결드출연확현께용"
    "합되행감바람처접녕림님류그버튼계변취환불배송품교반청탁립애긴급발생메번호가밀등록견완료진답"
    "겠습없였했까데저분께말씀너무또같은건데요며러두해서려할될된텐게끔왜어떻게언제다시계속점검"
)
"""The Hangul syllables found most in Korean support mail: evidence that bytes are Korean."""
FREQUENT_HANZI = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过"
    "发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本"
    "前开但因只从想实日者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最"
    "重并物手应向头文体政美相见被利什二等产或新己制身果加西月话合回特代内信表化老给世位次度门任常"
    "先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活更别打女变四神总何电数安少报"
    "才结反受目太量再感建务做接必场件计管期市直资命金指许统区保至形社便空决治展科司基书非则听白却"
    "界达光放强即难且权思完设式色路记南品住告类求据程北边死该交规万取格望觉术领共确传观清今切院让"
    "识候带导争运改收根干造言联持组每济车亲极服快办议往元证近失转令准始怎呢存未单具字爱流备连调深"
    "商算质团集百需价花华城级整离况请技际约示复病息究线似官断精满支视消越器容照须增研写称企功吗包"
    "片史委乎查易早除农找装广显吧标谈图念引历首医局专费号尽另周较注语仅考落随选列红响虽推势参希古"
    "众构房半节土投某案维革划致律足态护兴派孩验责营星够章音跟志底站严例防族供效续施留讲型料终答紧"
    "绝察母京段依批群项故按河米围江织害双境客纪采举父苏密低友诉止细愿千值仍钱破网热助倒育属坐限速"
    "刻乐否刚威状率甚独般普怕弹校苦创假久错承印晚试股拿脑预谁益若哪微继送急血惊伤素药适波夜省初喜"
    "卫源食险待述陆习置居劳财环排福纳欢获模充负云停游树疑层冷射略范竟句室激村策演简卡罪判担静退既"
    "您宗积余痛检差富灵协角占配征修降阶审坚善买养执副乱抗犯追帮宣票款账户订购货退换登录密码系统"
)
"""The hanzi found most in Chinese mail: evidence that bytes are Chinese."""


def _korean(ch: str) -> float:
    """Frequent Hangul reads best, then the rest of KS X 1001's 2,350 common syllables;
    Hanja are usual in Korean business mail (緊急, 貴社) but weigh less; cp949's extra
    syllables are rare."""
    if "\uac00" <= ch <= "\ud7a3":
        if ch in FREQUENT_HANGUL:
            return 1.0
        code = _encodes(ch, "cp949") or b"\0\0"
        return 0.7 if 0xB0 <= code[0] <= 0xC8 and code[1] >= 0xA1 else 0.2
    return 0.5 if _han(ch) else _common_cjk(ch)


def _chinese(ch: str) -> float:
    """Frequent hanzi read best, then GB2312 level 1 (3,755 common hanzi) and level 2;
    GBK's extra ones are rare."""
    if not _han(ch):
        return _common_cjk(ch)
    if ch in FREQUENT_HANZI:
        return 1.0
    code = _encodes(ch, "gb2312")
    if code is None:
        return 0.1
    return 0.6 if code[0] <= 0xD7 else 0.4


def _japanese(ch: str) -> float:
    """Kana, then JIS level 1 kanji, then level 2; half-width katakana are rare."""
    if "\u3040" <= ch <= "\u30ff":
        return 1.0
    if "\uff61" <= ch <= "\uff9f":
        return 0.2
    if not _han(ch):
        return _common_cjk(ch)
    code = _encodes(ch, "cp932")
    if code is None:
        return 0.2
    value = int.from_bytes(code)
    return 0.9 if value <= 0x9872 else 0.6 if value <= 0xEAA4 else 0.2


def _encodes(ch: str, codec: str) -> bytes | None:
    try:
        return ch.encode(codec)
    except UnicodeEncodeError:
        return None


CANDIDATES = ("cp949", "gb18030", "cp932", "cp1252", "cp1250")
"""Charsets guessed for unlabelled text, in order of preference on a tie."""
_CJK: dict[str, Callable[[str], float]] = {
    "cp949": _korean,
    "euc_kr": _korean,
    "johab": _korean,
    "gb18030": _chinese,
    "gbk": _chinese,
    "gb2312": _chinese,
    "cp932": _japanese,
    "shift_jis": _japanese,
    "euc_jp": _japanese,
}
_WESTERN = (
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß",  # German
    "áéíñóúü",  # Spanish
    "àèéìíòóùú",  # Italian
    "àáâãçéêíóôõú",  # Portuguese
    "éëïóöü",  # Dutch
    "åäöæøé",  # Nordic
    "áðéíóúýþæö",  # Icelandic
)
_CENTRAL = (
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "ąćęłńóśźż",  # Polish
    "áéíóöőúüű",  # Hungarian
    "čćđšž",  # Croatian, Slovene
    "ăâîșşțţ",  # Romanian
    "äöüß",  # German
)
_LETTERS: dict[str, tuple[str, ...]] = {
    "cp1252": _WESTERN,
    "iso8859-15": _WESTERN,
    "cp1250": _CENTRAL,
    "iso8859-2": _CENTRAL,
}
"""The non-ASCII letters of the languages written in each single-byte charset."""
_MISFIT = re.compile(r"[ìòùÌÒÙ](?=[^\W\d_])|[œŒ](?![uUiI])|(?<![aeiouAEIOU])[ïÏ]")
"""Western letters out of place (Italian grave accents end words, French œ precedes u or
i, ï follows a vowel): what Central European text read as Windows-1252 looks like."""
_PUNCTUATION = frozenset("\u00a0«»“”„‘’‚–—…€°•·§©®™¡¿×")


def _clean(text: str) -> str:
    """One line, no control characters, composed (NFC): decomposed Hangul from a Mac reads
    and searches like any other."""
    text = text.replace("\r", " ").replace("\n", " ")
    return unicodedata.normalize("NFC", " ".join(_CONTROL.sub("", text).split()))


def _close_last_word(raw: str) -> str:
    """An encoded word cut off at the end of the value (its ``?=`` lost) closed again."""
    last = _OPEN_WORD.search(raw)
    return raw[: last.start()] + last.group().rstrip("?") + "?=" if last else raw
