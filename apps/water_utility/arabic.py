# This file is part of the water_utility module.  See README.rst.
"""Pure text helpers for Arabic names.

Staff type names as they hear them: "احمد" must find "أحمد", "فاطمه" must
find "فاطمة" and "مصطفي" must find "مصطفى".  Names are compared through a
search key where such spelling variants collapse.
"""
import re
import unicodedata

_FOLD = str.maketrans({
        'أ': 'ا', 'إ': 'ا', 'آ': 'ا', 'ٱ': 'ا',
        'ى': 'ي', 'ئ': 'ي',
        'ة': 'ه',
        'ؤ': 'و',
        'ـ': None,  # tatweel, a typographic stretch
        })
# Harakat and other combining marks never distinguish two names.
_MARKS = re.compile(r'[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]')
_SPACES = re.compile(r'\s+')
_DIGITS = str.maketrans('٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹', '0123456789' * 2)


def search_key(text):
    "Return text folded for searching: spelling variants compare equal"
    if not text:
        return ''
    text = unicodedata.normalize('NFKC', text)
    text = _MARKS.sub('', text)
    text = text.translate(_FOLD).translate(_DIGITS)
    return _SPACES.sub(' ', text).strip().casefold()


def western_digits(text):
    "Return text with Arabic-Indic digits replaced by 0-9"
    return text.translate(_DIGITS) if text else text
