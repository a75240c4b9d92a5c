# This file is part of the water_utility module.  See README.rst.
"""The subscriber portal (بوابة المشترك): what a web user holds

A subscriber signs up on the portal as a Tryton web user (web_user) and adds
each subscription by proving it: its number and its portal activation code,
printed on every bill and shown to the desk (or a one-time code e-mailed to
the address on file).  The subscriptions a web user proved are the only ones
the portal ever shows it (routes.py checks it on every page).

The activation code is not stored: it is an HMAC of the subscription's id
and a random nonce under the portal's secret (50 bits, ten letters and
digits of Crockford's base 32).  Renewing it draws a new nonce, so the
codes printed before no longer work.

The small pure functions here (the CSRF token, the photo check, the amount
typed by a subscriber, the activation code, the bars of the consumption
chart) are tested with hypothesis in tests/test_portal.py.
"""
import datetime as dt
import hashlib
import hmac
import io
import secrets
import unicodedata
from decimal import Decimal, InvalidOperation


from sql.aggregate import Count

from trytond import config
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

# what a subscriber may upload: photos of a dial, a leak, a broken seal
PHOTO_FORMATS = {
    'JPEG': ('jpg', 'image/jpeg'),
    'PNG': ('png', 'image/png'),
    'WEBP': ('webp', 'image/webp'),
    }
PHOTO_MAX_SIZE = 5 * 1024 * 1024
# a phone's photo has 12 to 24 megapixels; a larger image is refused (it
# would take the server's memory to decode)
PHOTO_MAX_PIXELS = 24_000_000
# stored photos are scaled down to this on their longer side: enough to
# read a dial or see a leak, a few hundred KB each
PHOTO_MAX_SIDE = 2560
# a code sent to the e-mail on file proves a subscription for this long
CODE_VALIDITY = dt.timedelta(minutes=15)
# the activation code: Crockford's base 32 (no I, L, O or U to misread),
# ten characters, 50 bits
CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
CODE_LENGTH = 10
# what a subscriber may type for a letter the alphabet leaves out
CODE_READS = {'O': '0', 'I': '1', 'L': '1'}


def csrf_token(secret):
    "Return the CSRF token of the forms of a session (or of a browser)"
    return hmac.new(
        secret.encode(), b'water-portal-csrf', hashlib.sha256).hexdigest()


def csrf_valid(secret, token):
    "Whether the token posted is the one of the secret"
    if not secret or not token:
        return False
    return hmac.compare_digest(csrf_token(secret), token)


def photo_format(data):
    """Return (extension, MIME type) of the photo, None when the bytes are not
    a JPEG, PNG or WebP image (whatever the file's name or type claims)"""
    from PIL import Image, UnidentifiedImageError
    if not data or len(data) > PHOTO_MAX_SIZE:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            format_ = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        return None
    return PHOTO_FORMATS.get(format_)


def reencode_photo(data):
    """Return the photo as a new JPEG: without its metadata (a phone's GPS
    position, its owner's name) or whatever follows the image's data, turned
    the way it was taken, at most PHOTO_MAX_SIDE pixels on its longer side;
    None when data is not a photo or has more than PHOTO_MAX_PIXELS pixels"""
    from PIL import Image, ImageOps, UnidentifiedImageError
    if not photo_format(data):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            # the size is read from the header, before any pixel is decoded
            if image.width * image.height > PHOTO_MAX_PIXELS:
                return None
            image = ImageOps.exif_transpose(image)
            if image.mode in {'RGBA', 'LA', 'P', 'PA'}:
                image = image.convert('RGBA')
                background = Image.new('RGB', image.size, 'white')
                background.paste(image, mask=image.getchannel('A'))
                image = background
            else:
                image = image.convert('RGB')
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            result = io.BytesIO()
            image.save(result, 'JPEG', quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        return None
    return result.getvalue()


def parse_amount(text):
    """Return the Decimal a subscriber typed (Arabic-Indic digits, Arabic
    decimal separator, a currency word or thousands separators around it),
    None when it is not an amount"""
    if not text:
        return None
    digits = []
    for char in str(text).strip():
        if char.isdigit():
            digits.append(str(unicodedata.digit(char)))
        elif char in '.٫':
            digits.append('.')
        elif (char in ',٬ \u00a0' or char.isalpha()
                or unicodedata.category(char) == 'Sc'):
            continue
        else:
            return None
    number = ''.join(digits)
    if not number or number.count('.') > 1:
        return None
    try:
        return Decimal(number)
    except InvalidOperation:
        return None


def chart_bars(values, width, height, rtl=False):
    """Return for each value its bar (x, y, w, h) in a chart of width × height
    with the bars side by side, the first at the left (at the right when
    rtl: Arabic reads time from right to left) and the largest full height"""
    if not values:
        return []
    top = max(max(values), 0)
    step = width / len(values)
    bars = []
    for i, value in enumerate(values):
        h = (height * max(value, 0) / top) if top else 0
        x = i * step + step * 0.15
        if rtl:
            x = width - x - step * 0.7
        bars.append((x, height - h, step * 0.7, h))
    return bars


def activation_code(secret, subscription_id, nonce):
    """The portal activation code of the subscription: CODE_LENGTH
    characters of CODE_ALPHABET drawn from an HMAC under secret"""
    digest = hmac.new(secret.encode(),
        ('water-portal-activation:%s:%s' % (subscription_id, nonce or ''))
        .encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], 'big') >> (64 - 5 * CODE_LENGTH)
    chars = []
    for _ in range(CODE_LENGTH):
        value, index = divmod(value, 32)
        chars.append(CODE_ALPHABET[index])
    return ''.join(reversed(chars))


def format_code(code):
    "ABCDE-FGHJK: two halves, easier to read out and to type"
    half = len(code) // 2
    return '%s-%s' % (code[:half], code[half:])


def normalize_code(text):
    """Return the activation code typed (any case, spaces or dashes,
    Arabic-Indic digits, O for 0, I and L for 1), None when it cannot be
    one"""
    chars = []
    for char in text or '':
        if char in ' -\u00a0\u2010\u2011\u2012\u2013\u2014\u2212':
            continue
        if char.isdigit():
            chars.append(str(unicodedata.digit(char)))
            continue
        char = char.upper()
        char = CODE_READS.get(char, char)
        if char not in CODE_ALPHABET:
            return None
        chars.append(char)
    if len(chars) != CODE_LENGTH:
        return None
    return ''.join(chars)


def mask_email(email):
    "m***@example.com: enough for its owner to recognise it, no more"
    name, _, domain = email.partition('@')
    return '%s***@%s' % (name[:1], domain)


def code_hash(salt, code):
    return hashlib.sha256(('%s:%s' % (salt, code)).encode()).hexdigest()


class PortalCode(ModelSQL):
    "Portal One-Time Code"
    __name__ = 'water.portal.code'
    __string__ = "Portal One-Time Code"

    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True,
        ondelete='CASCADE')
    sent_to = fields.Char("Sent To", required=True)
    salt = fields.Char("Salt", required=True, strip=False)
    code_hash = fields.Char("Code Hash", required=True, strip=False)
    expires = fields.Timestamp("Expires", required=True)
    used = fields.Boolean("Used")

    @classmethod
    def issue(cls, subscription, sent_to):
        """Return a new six-digit code for the subscription; the codes it had
        before no longer work.  Only its hash is kept."""
        cls.delete(cls.search([('subscription', '=', subscription.id)]))
        code = '%06d' % secrets.randbelow(10 ** 6)
        salt = secrets.token_hex(8)
        cls.create([{
                    'subscription': subscription.id,
                    'sent_to': sent_to,
                    'salt': salt,
                    'code_hash': code_hash(salt, code),
                    'expires': dt.datetime.now() + CODE_VALIDITY,
                    'used': False,
                    }])
        return code

    @classmethod
    def redeem(cls, number, code):
        """Return the subscription of the number when code is its valid code,
        which then is used up; else None"""
        codes = cls.search([
                ('subscription.number', '=', number),
                ('used', '=', False),
                ('expires', '>', dt.datetime.now()),
                ], limit=1)
        digits = ''.join(str(unicodedata.digit(c)) for c in (code or '')
            if c.isdigit())
        if not codes or not hmac.compare_digest(
                codes[0].code_hash, code_hash(codes[0].salt, digits)):
            return None
        cls.write(codes, {'used': True})
        return codes[0].subscription


class PortalSecret(ModelSQL):
    "Portal Secret"
    __name__ = 'water.portal.secret'
    __string__ = "Portal Secret"

    secret = fields.Char("Secret", required=True, strip=False)

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # drawn once, when the module is activated; read by no one
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(Count(table.id)))
        if not cursor.fetchone()[0]:
            cursor.execute(*table.insert(
                    [table.secret], [[secrets.token_hex(32)]]))

    @classmethod
    def get(cls):
        """The secret of the activation codes: [water_portal] secret when
        set (a copy of the database then reveals no code), else the one
        drawn at activation"""
        secret = config.get('water_portal', 'secret')
        if secret:
            return secret
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.secret,
                order_by=table.id.asc, limit=1))
        return cursor.fetchone()[0]


class PortalSubscription(ModelSQL, ModelView):
    "Web User - Water Subscription"
    __name__ = 'web.user-water.subscription'
    __string__ = "Web User - Water Subscription"

    user = fields.Many2One(
        'web.user', "Web User", required=True, ondelete='CASCADE')
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True,
        ondelete='CASCADE')
    email = fields.Function(fields.Char("E-mail"), 'get_email')
    linked = fields.Function(fields.DateTime("Linked"), 'get_linked')

    def get_email(self, name):
        return self.user.email

    def get_linked(self, name):
        return self.create_date.replace(microsecond=0)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('user_subscription_unique', Unique(t, t.user, t.subscription),
                'water_utility.msg_portal_subscription_unique'),
            ]


class WebUser(metaclass=PoolMeta):
    __name__ = 'web.user'

    portal_email = fields.Char("New E-mail", readonly=True,
        help="The address the subscriber asked for on the portal, waiting "
        "for its link to be opened.")
    water_subscriptions = fields.Many2Many(
        'web.user-water.subscription', 'user', 'subscription',
        "Water Subscriptions",
        help="The subscriptions the subscriber proved on the portal.")

    @classmethod
    def set_password(cls, users, name, value):
        """A new password ends every session of the user: whoever had the
        old one is signed out"""
        pool = Pool()
        Session = pool.get('web.user.session')
        super().set_password(users, name, value)
        # 'x' * 10 is web_user's placeholder of the password, sent back
        # unchanged by a form
        if value and value != 'x' * 10:
            Session.delete(Session.search([
                        ('user', 'in', [u.id for u in users]),
                        ]))

    def portal_subscription(self, subscription_id):
        """Return the subscription of the id when this user holds it, else
        None: the one check of ownership of the portal"""
        for subscription in self.water_subscriptions:
            if subscription.id == subscription_id:
                return subscription
        return None


class Subscription(metaclass=PoolMeta):
    __name__ = 'water.subscription'

    portal_nonce = fields.Char("Portal Nonce", readonly=True, strip=False)
    portal_code = fields.Function(fields.Char("Portal Activation Code",
            help="Proves the subscription on the subscribers' portal: "
            "printed on every bill; give it only to the holder."),
        'get_portal_code')
    portal_logins = fields.One2Many('web.user-water.subscription',
        'subscription', "Portal Logins",
        help="The portal logins that proved the subscription; remove one "
        "to take its access away.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'renew_portal_code': {
                    'invisible': Eval('state') == 'closed',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def copy(cls, subscriptions, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('portal_nonce')
        default.setdefault('portal_logins')
        return super().copy(subscriptions, default=default)

    @classmethod
    def get_portal_code(cls, subscriptions, name):
        Secret = Pool().get('water.portal.secret')
        secret = Secret.get()
        return {s.id: format_code(
                activation_code(secret, s.id, s.portal_nonce))
            for s in subscriptions}

    @classmethod
    @ModelView.button
    def renew_portal_code(cls, subscriptions):
        "A new activation code: the one printed before no longer works"
        for subscription in subscriptions:
            subscription.portal_nonce = secrets.token_hex(8)
        cls.save(subscriptions)

    @classmethod
    def portal_proof(cls, number, code):
        """Return the active subscription of the number whose activation
        code is code (as typed), else None"""
        pool = Pool()
        Secret = pool.get('water.portal.secret')
        code = normalize_code(code)
        if not number or not code:
            return None
        subscriptions = cls.search([
                ('number', '=', number.strip()),
                ('state', '=', 'active'),
                ], limit=1)
        if not subscriptions:
            return None
        subscription, = subscriptions
        expected = activation_code(
            Secret.get(), subscription.id, subscription.portal_nonce)
        if not hmac.compare_digest(expected, code):
            return None
        return subscription
