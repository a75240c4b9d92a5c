"""Reference lists for tools/demo.py: names, places and equipment of the demo.

Everything here is invented demo material in the style of the Gaza Strip:
common first names and family names, neighbourhoods and streets of the five
governorates, meter makes.  No real person, account or phone number is meant.
"""
import datetime as dt

COMPANY_NAME = "مصلحة مياه بلديات الساحل"
COMPANY_NAME_EN = "Coastal Municipalities Water Utility"
COMPANY_ADDRESS = ("شارع الجلاء", "حي الرمال", "غزة")

CURRENCY = {
    'code': 'ILS',
    'name': "Israeli New Shekel",
    'name_ar': "شيكل",
    'symbol': '₪',
    'numeric_code': '376',
    }

COUNTRY = {
    'code': 'PS',
    'code3': 'PSE',
    'code_numeric': '275',
    'name': "Palestine, State of",
    'name_ar': "فلسطين",
    }

# ISO 3166-2:PS governorates of the Gaza Strip
SUBDIVISIONS = [
    ('PS-NGZ', "North Gaza", "شمال غزة"),
    ('PS-GZA', "Gaza", "غزة"),
    ('PS-DEB', "Deir al-Balah", "دير البلح"),
    ('PS-KYS', "Khan Yunis", "خان يونس"),
    ('PS-RFH', "Rafah", "رفح"),
    ]

# Service areas.  weight: share of the subscriptions.
# neighbourhoods: (Arabic, English) used for reading routes and addresses.
AREAS = [
    {
        'code': 'GZA',
        'name': "Gaza", 'name_ar': "غزة",
        'centre': "Gaza Service Centre", 'centre_ar': "مقر خدمات غزة",
        'centre_address': "شارع الجلاء، حي الرمال\nغزة",
        'centre_phone': '+970 8 280 0101',
        'subdivision': 'PS-GZA',
        'weight': 40,
        'neighbourhoods': [
            ("حي الرمال", "Al-Rimal"),
            ("حي الشجاعية", "Al-Shuja'iyya"),
            ("حي الزيتون", "Al-Zeitoun"),
            ("حي التفاح", "Al-Tuffah"),
            ("حي الدرج", "Al-Daraj"),
            ("حي الشيخ رضوان", "Sheikh Radwan"),
            ("حي تل الهوى", "Tal al-Hawa"),
            ("حي الصبرة", "Al-Sabra"),
            ("حي النصر", "Al-Nasr"),
            ("حي الشيخ عجلين", "Sheikh Ajlin"),
            ],
        'streets': [
            "شارع عمر المختار", "شارع الجلاء", "شارع الوحدة",
            "شارع صلاح الدين", "شارع النصر", "شارع الثلاثيني",
            "شارع الشهداء", "شارع الرشيد", "شارع يافا", "شارع بغداد",
            "شارع المنصورة", "شارع الصحابة",
            ],
        'families': [
            "الشوا", "الريس", "حلس", "الصوراني", "الغصين", "سكيك", "الجمل",
            "الترك", "الخضري", "أبو رمضان", "عاشور", "حجازي", "دلول",
            "شملخ", "جندية", "الحسيني", "مشتهى", "أبو شعبان",
            ],
        },
    {
        'code': 'JBL',
        'name': "Jabalia", 'name_ar': "جباليا",
        'centre': "Jabalia Service Centre", 'centre_ar': "مقر خدمات جباليا",
        'centre_address': "شارع الهوجا، جباليا البلد\nجباليا",
        'centre_phone': '+970 8 280 0202',
        'subdivision': 'PS-NGZ',
        'weight': 16,
        'neighbourhoods': [
            ("جباليا البلد", "Jabalia town"),
            ("جباليا النزلة", "Jabalia al-Nazla"),
            ("معسكر جباليا", "Jabalia camp"),
            ("تل الزعتر", "Tal al-Zaatar"),
            ("حي السلام", "Al-Salam"),
            ("عزبة عبد ربه", "Izbat Abed Rabbo"),
            ],
        'streets': [
            "شارع الهوجا", "شارع الترانس", "شارع صلاح الدين",
            "شارع القدس", "شارع العلمي", "شارع الشيخ زايد",
            ],
        'families': [
            "أبو عيدة", "الكحلوت", "حمدان", "أبو وردة", "أبو القمصان",
            "أبو شرخ", "المدهون", "الشنباري", "أبو جراد", "عبد ربه",
            ],
        },
    {
        'code': 'DBL',
        'name': "Deir al-Balah", 'name_ar': "دير البلح",
        'centre': "Deir al-Balah Service Centre",
        'centre_ar': "مقر خدمات دير البلح",
        'centre_address': "شارع صلاح الدين، البلد\nدير البلح",
        'centre_phone': '+970 8 280 0303',
        'subdivision': 'PS-DEB',
        'weight': 13,
        'neighbourhoods': [
            ("البلد", "Old town"),
            ("حي البركة", "Al-Baraka"),
            ("حي البصة", "Al-Bassa"),
            ("حي الحكر", "Al-Hikr"),
            ("معسكر دير البلح", "Deir al-Balah camp"),
            ("أبو العجين", "Abu al-Ajin"),
            ],
        'streets': [
            "شارع صلاح الدين", "شارع البحر", "شارع الشهداء",
            "شارع المحطة", "شارع البركة", "شارع النخيل",
            ],
        'families': [
            "أبو مغصيب", "بركة", "أبو حسنين", "حميد", "أبو الخير", "ماضي",
            "الحاج", "أبو سمهدانة", "عايش",
            ],
        },
    {
        'code': 'KYS',
        'name': "Khan Younis", 'name_ar': "خانيونس",
        'centre': "Khan Younis Service Centre",
        'centre_ar': "مقر خدمات خانيونس",
        'centre_address': "شارع جمال عبد الناصر، البلد\nخانيونس",
        'centre_phone': '+970 8 280 0404',
        'subdivision': 'PS-KYS',
        'weight': 19,
        'neighbourhoods': [
            ("البلد", "Old town"),
            ("حي الكتيبة", "Al-Katiba"),
            ("بني سهيلا", "Bani Suheila"),
            ("عبسان الكبيرة", "Abasan al-Kabira"),
            ("القرارة", "Al-Qarara"),
            ("حي معن", "Ma'an"),
            ("حي الأمل", "Al-Amal"),
            ("السطر الغربي", "Al-Satar al-Gharbi"),
            ],
        'streets': [
            "شارع جمال عبد الناصر", "شارع البحر", "شارع صلاح الدين",
            "شارع المحطة", "شارع الجلاء", "شارع السلطان عبد الحميد",
            "شارع القلعة",
            ],
        'families': [
            "الأسطل", "الفرا", "أبو شمالة", "شراب", "الآغا", "أبو دقة",
            "قديح", "المجايدة", "أبو طير", "اللحام", "البطة",
            ],
        },
    {
        'code': 'RFH',
        'name': "Rafah", 'name_ar': "رفح",
        'centre': "Rafah Service Centre", 'centre_ar': "مقر خدمات رفح",
        'centre_address': "شارع أبو بكر الصديق، الشابورة\nرفح",
        'centre_phone': '+970 8 280 0505',
        'subdivision': 'PS-RFH',
        'weight': 12,
        'neighbourhoods': [
            ("حي الشابورة", "Al-Shaboura"),
            ("تل السلطان", "Tal al-Sultan"),
            ("حي الجنينة", "Al-Jneina"),
            ("خربة العدس", "Khirbat al-Adas"),
            ("حي البرازيل", "Al-Brazil"),
            ("حي يبنا", "Yibna"),
            ],
        'streets': [
            "شارع أبو بكر الصديق", "شارع صلاح الدين", "شارع البحر",
            "شارع عثمان بن عفان", "شارع طه حسين", "شارع النجمة",
            ],
        'families': [
            "الشاعر", "قشطة", "أبو طه", "زعرب", "برهوم", "النحال", "بربخ",
            "أبو هلال", "أبو جزر", "الهمص", "أبو سمرة",
            ],
        },
    ]

FAMILIES_COMMON = [
    "المصري", "النجار", "حمادة", "عوض", "شحادة", "حسونة", "الهندي",
    "ياسين", "عابد", "سالم", "عودة", "العطار", "الحلو", "إسماعيل",
    "الخطيب", "أبو عودة", "البطش", "الدحدوح", "السقا", "الطويل",
    ]

MALE_NAMES = [
    "محمد", "أحمد", "محمود", "خالد", "إبراهيم", "يوسف", "عمر", "علي",
    "حسن", "حسين", "مصطفى", "عبد الله", "سامي", "ماجد", "رائد", "وليد",
    "جمال", "نبيل", "فادي", "إياد", "أيمن", "سمير", "عادل", "نضال",
    "رامي", "هاني", "زياد", "طارق", "أسامة", "باسل", "بلال", "حازم",
    "جهاد", "عماد", "كمال", "ناصر", "ياسر", "سعيد", "فتحي",
    "عبد الرحمن", "عبد الكريم", "إسماعيل", "موسى", "عيسى", "زكريا",
    "صالح", "سليمان", "رياض", "منذر", "توفيق",
    ]

FEMALE_NAMES = [
    "فاطمة", "عائشة", "مريم", "خديجة", "آمنة", "سعاد", "نعمة", "هدى",
    "سميرة", "حنان", "رنا", "سناء", "منى", "أمل", "إيمان", "وفاء",
    "نجلاء", "زينب", "صفية", "ريم",
    ]

# Subscription categories (codes of water_utility.category_*) and shares
CATEGORY_WEIGHTS = [
    ('domestic', 860),
    ('commercial', 80),
    ('industrial', 10),
    ('institutional', 25),
    ('charitable', 10),
    ('government', 15),
    ]

BUSINESS_NAMES = {
    'commercial': [
        "سوبرماركت {family}", "مخبز {family}", "صيدلية {family}",
        "مطعم {family}", "محلات {family} التجارية", "مغسلة {family}",
        "ملحمة {family}", "محمص {family}", "كافتيريا {family}",
        ],
    'industrial': [
        "مصنع {family} للبلاستيك", "مصنع {family} للبلاط",
        "معصرة {family} للزيتون", "مصنع {family} للمواد الغذائية",
        "محطة {family} لتحلية المياه", "مصنع {family} للألبان",
        ],
    'institutional': [
        "مسجد {word}", "مدرسة {word} الأساسية", "مدرسة {word} الثانوية",
        "روضة {word}", "مستوصف {word}",
        ],
    'charitable': [
        "جمعية {word} الخيرية", "مركز {word} لرعاية الأيتام",
        "دار {word} للقرآن الكريم", "لجنة زكاة {area}",
        ],
    'government': [
        "مديرية التربية والتعليم - {area}", "مركز شرطة {neighbourhood}",
        "مديرية الصحة - {area}", "مكتب بريد {neighbourhood}",
        "مركز الرعاية الأولية - {neighbourhood}",
        ],
    }
BUSINESS_WORDS = [
    "الرحمة", "النور", "الهدى", "الفاروق", "التقوى", "الإيمان", "السلام",
    "الأمل", "الشهداء", "الإمام الشافعي", "صلاح الدين",
    "خالد بن الوليد", "الصديق", "الرحمن", "الفلاح", "الإحسان",
    ]

METER_MODELS = [
    ("Itron", "Aquadis+"),
    ("Sensus", "620"),
    ("Elster", "V200"),
    ("Zenner", "MTKD-N"),
    ("Arad", "Multi-Jet M"),
    ("B Meters", "GMDM-I"),
    ]

DIAMETERS = {
    'domestic': [('15', 75), ('20', 25)],
    'commercial': [('15', 30), ('20', 50), ('25', 20)],
    'industrial': [('32', 40), ('40', 40), ('50', 20)],
    'institutional': [('20', 50), ('25', 35), ('32', 15)],
    'charitable': [('20', 60), ('25', 40)],
    'government': [('20', 40), ('25', 40), ('32', 20)],
    }

# Demo users: login, role, group XML ids, Arabic display name.
# The reader role has one user per service area (reader, reader2, ...):
# each walks the routes of his area.
ROLES = [
    ('manager', 'manager',
        ['water_utility.group_water_admin', 'party.group_party_admin',
            'water_utility.group_water_settlement_approver',
            'water_utility.group_water_collection_manager'],
        "مدير خدمات المشتركين"),
    ('billing', 'billing',
        ['water_utility.group_water_billing'],
        "موظف التسجيل والفوترة"),
    ('reader', 'reader',
        ['water_utility.group_water_reader'],
        "قارئ عدادات"),
    ('complaints', 'complaints',
        ['water_utility.group_water_complaints'],
        "موظف الشكاوى"),
    ('inspector', 'inspector',
        ['water_utility.group_water_inspector'],
        "مفتش التفتيش والمتابعة"),
    ('cashier', 'cashier',
        ['water_utility.group_water_cashier'],
        "أمين الصندوق"),
    ('accountant', 'accountant',
        ['water_utility.group_water_accountant', 'account.group_account'],
        "المحاسب"),
    ]

WORKING_DAYS = ['5', '6', '0', '1', '2', '3']  # Saturday to Thursday
WORKING_HOURS = (dt.time(8, 0), dt.time(14, 0))

# Public holidays when the service centres are closed.  The Islamic feasts
# follow the moon: these dates are the expected ones and must be checked
# against the official announcement each year.
FEASTS = {
    2025: {'fitr': dt.date(2025, 3, 30), 'adha': dt.date(2025, 6, 6)},
    2026: {'fitr': dt.date(2026, 3, 20), 'adha': dt.date(2026, 5, 27)},
    2027: {'fitr': dt.date(2027, 3, 10), 'adha': dt.date(2027, 5, 16)},
    2028: {'fitr': dt.date(2028, 2, 27), 'adha': dt.date(2028, 5, 5)},
    }


def holidays(year):
    "Return [(date, English name, Arabic name)] of the year"
    result = [
        (dt.date(year, 1, 1), "New Year's Day", "رأس السنة الميلادية"),
        (dt.date(year, 11, 15), "Independence Day", "عيد الاستقلال"),
        ]
    feasts = FEASTS.get(year)
    if feasts:
        for i in range(3):
            result.append((feasts['fitr'] + dt.timedelta(days=i),
                    f"Eid al-Fitr (day {i + 1})",
                    f"عيد الفطر (اليوم {i + 1})"))
        for i in range(4):
            result.append((feasts['adha'] + dt.timedelta(days=i),
                    f"Eid al-Adha (day {i + 1})",
                    f"عيد الأضحى (اليوم {i + 1})"))
    return sorted(result)
