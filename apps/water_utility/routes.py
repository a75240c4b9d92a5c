# This file is part of the water_utility module.  See README.rst.
"""The subscriber portal's pages, served by trytond under /<db>/portal/

Server-rendered HTML (Genshi templates in portal/, escaped by default), one
inline style sheet and no script: pages stay small for a phone on a slow
connection.  Every page runs through `portal`, which:

- answers 404 in a database where the module is not activated;
- finds the web user of the session cookie and sends to the sign-in page
  when a page needs one;
- refuses a POST whose CSRF token is not the session's (or, before sign-in,
  the browser's cookie's);
- checks that a subscription, bill or request in the address is one the web
  user holds (404 otherwise: the portal never says whether it exists);
- turns every error into a friendly page in the subscriber's language after
  rolling the transaction back: nothing is half done.
"""
import datetime as dt
import hmac
import logging
import re
import secrets
from functools import wraps
from http import HTTPStatus
from pathlib import Path
from email.message import EmailMessage
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from genshi.template import TemplateLoader
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.utils import redirect

from trytond import backend, config
from trytond.exceptions import RateLimitException, UserError, UserWarning
from trytond.i18n import gettext
from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.sendmail import send_message_transactional
from trytond.transaction import Transaction, TransactionError
from trytond.wsgi import app

from . import portal as tools

logger = logging.getLogger(__name__)


class SecretsFilter(logging.Filter):
    """Keep the tokens of the portal's e-mailed links (a new password, a new
    e-mail) out of the access log of trytond's server: whoever reads the
    log must not be able to use them"""
    pattern = re.compile(r'\b(token=)[^&\s"]+')

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = self.pattern.sub(r'\1***', record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub(r'\1***', a) if isinstance(a, str) else a
                for a in record.args)
        return True


# werkzeug's server logs each request's address, query included
logging.getLogger('werkzeug').addFilter(SecretsFilter())

PREFIX = '/<database_name>/portal'
SESSION_COOKIE = 'water_portal'
CSRF_COOKIE = 'water_portal_csrf'
LANG_COOKIE = 'water_portal_lang'
LANGUAGES = ('ar', 'en')
PASSWORD_LENGTH = 8
# a whole page of the portal; photos have their own limit
FORM_MAX_SIZE = 64 * 1024
UPLOAD_MAX_SIZE = tools.PHOTO_MAX_SIZE + FORM_MAX_SIZE
# the one-time codes a subscription may be sent in a window of attempts
# ([session] timeout)
CODES_SENT = 3
# and all subscriptions together from one network
CODES_SENT_NETWORK = 10
# what one subscription may send through the portal in 24 hours
# ([water_portal] max_requests_day, max_readings_day, max_photo_bytes_day)
DAILY_CAPS = {'requests': 5, 'readings': 3}
PHOTO_BYTES_DAY = 20 * 1024 * 1024
# the largest id of a record: the ids are the database's integers
MAX_ID = 2 ** 31 - 1
_loader = TemplateLoader(
    str(Path(__file__).parent / 'portal'), auto_reload=False)
SECURITY_HEADERS = {
    'Content-Security-Policy': (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    }


class PortalError(Exception):
    "A refusal shown to the subscriber as a page with the message key"

    def __init__(self, key, status=HTTPStatus.BAD_REQUEST, **variables):
        super().__init__(key)
        self.key = key
        self.status = status
        self.variables = variables


class Page:
    "What a page of the portal knows of the request"

    def __init__(self, request, pool):
        self.request = request
        self.pool = pool
        self.database = request.view_args['database_name']
        lang = request.cookies.get(LANG_COOKIE)
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]
        self.session_key = request.cookies.get(SESSION_COOKIE)
        self.user = None
        if self.session_key:
            WebUser = pool.get('web.user')
            self.user = WebUser.get_user(self.session_key)
        # before sign-in the forms are tied to a random cookie of the browser
        self.browser_secret = request.cookies.get(CSRF_COOKIE)
        self.new_browser_secret = None
        if not self.user and not self.browser_secret:
            self.browser_secret = self.new_browser_secret = (
                secrets.token_hex(16))
        self.cookies = []
        self._selections = {}
        self.timezone = None

    # --- building pages
    def url(self, *parts, **query):
        path = '/'.join(quote(str(p), safe='') for p in parts)
        url = '/%s/portal/%s' % (quote(self.database, safe=''), path)
        if query:
            url += '?' + '&'.join(
                '%s=%s' % (k, quote(str(v), safe='')) for k, v in query.items())
        return url

    @property
    def csrf(self):
        return tools.csrf_token(self.session_key if self.user
            else self.browser_secret)

    def csrf_ok(self):
        secret = self.session_key if self.user else self.browser_secret
        return tools.csrf_valid(secret, self.request.form.get('csrf'))

    def _(self, key, **variables):
        return gettext('water_utility.msg_portal_' + key, **variables)

    def lang_record(self):
        Lang = self.pool.get('ir.lang')
        return Lang.get(self.lang)

    def money(self, amount, currency):
        if amount is None:
            return ''
        return self.lang_record().currency(
            amount, currency, grouping=True, digits=currency.digits)

    def date(self, value):
        if not value:
            return ''
        if isinstance(value, dt.datetime):
            # stored in UTC; shown on the clock of the subscription's area
            if self.timezone:
                value = value.replace(tzinfo=dt.timezone.utc).astimezone(
                    ZoneInfo(self.timezone))
            value = value.replace(microsecond=0)
            return self.lang_record().strftime(value, '%d/%m/%Y %H:%M')
        return self.lang_record().strftime(value, '%d/%m/%Y')

    def number(self, value, digits=0):
        if value is None:
            return ''
        return self.lang_record().format_number(value, digits)

    def selection(self, record, field):
        "The label of a selection field's value, in the page's language"
        key = (record.__name__, field)
        if key not in self._selections:
            self._selections[key] = dict(record.__class__.fields_get(
                    [field])[field]['selection'])
        value = getattr(record, field)
        return self._selections[key].get(value, value)

    def set_cookie(self, name, value, max_age=None):
        self.cookies.append((name, value, max_age))

    def render(self, template, status=HTTPStatus.OK, **values):
        values.update(page=self, _=self._, user=self.user, lang=self.lang,
            direction='rtl' if self.lang == 'ar' else 'ltr')
        stream = _loader.load(template).generate(**values)
        html = stream.render('html', doctype='html5', encoding='utf-8')
        return self.respond(Response(
                html, status=status, content_type='text/html; charset=utf-8'))

    def redirect(self, url):
        return self.respond(redirect(url, code=HTTPStatus.SEE_OTHER,
                Response=Response))

    def respond(self, response):
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        # behind a proxy that ends TLS the request itself may be http
        secure = (self.request.scheme == 'https'
            or urlsplit(config.get('water_portal', 'url') or '').scheme
            == 'https')
        path = '/%s/portal/' % self.database
        if self.new_browser_secret:
            self.set_cookie(CSRF_COOKIE, self.new_browser_secret)
        for name, value, max_age in self.cookies:
            if value is None:
                response.delete_cookie(name, path=path, secure=secure,
                    httponly=True, samesite='Lax')
            else:
                response.set_cookie(name, value, max_age=max_age, path=path,
                    secure=secure, httponly=True, samesite='Lax')
        return response

    # --- what the web user holds
    def subscription(self, subscription_id):
        "The subscription of the address, when the web user holds it"
        subscription = self.user.portal_subscription(subscription_id)
        if not subscription:
            raise NotFound()
        return subscription

    def set_company(self, subscription):
        self.timezone = (subscription.area.timezone
            or subscription.company.timezone)
        return Transaction().set_context(company=subscription.company.id)


def portal(path, methods=('GET',), signed_in=True, max_size=FORM_MAX_SIZE):
    "Register a page of the portal (see the module's docstring)"
    def decorator(func):
        @wraps(func)
        def page_function(request, pool, **kwargs):
            kwargs.pop('database_name', None)
            try:
                pool.get('water.subscription')
            except KeyError:
                # a database where the module is not activated
                raise NotFound()
            transaction = Transaction()
            page = Page(request, pool)
            with transaction.set_context(language=page.lang):
                try:
                    if any(isinstance(v, int) and not 0 < v <= MAX_ID
                            for v in kwargs.values()):
                        # no record has this id (the database would refuse
                        # to compare an integer of more than its bits)
                        raise NotFound()
                    if signed_in and not page.user:
                        return page.redirect(page.url('login',
                                next=urlsplit(request.url).path))
                    if request.method == 'POST' and not page.csrf_ok():
                        raise PortalError('forged')
                    return func(page, **kwargs)
                except (NotFound, PortalError, UserError, UserWarning,
                        RateLimitException, RequestEntityTooLarge) as e:
                    transaction.rollback()
                    return error_page(page, e)
                except HTTPException:
                    transaction.rollback()
                    raise
                except (TransactionError, backend.DatabaseOperationalError):
                    # with_transaction starts again (with the locks asked)
                    raise
                except Exception:
                    logger.exception("portal page %s failed", request.path)
                    transaction.rollback()
                    return error_page(page, None)

        endpoint = with_pool(with_transaction()(page_function))
        endpoint.max_request_size = max_size
        app.route(PREFIX + path, methods=list(methods))(endpoint)
        return func
    return decorator


def error_page(page, exception):
    if isinstance(exception, NotFound):
        status, message = HTTPStatus.NOT_FOUND, page._('not_found')
    elif isinstance(exception, PortalError):
        status = exception.status
        message = page._(exception.key, **exception.variables)
    elif isinstance(exception, RequestEntityTooLarge):
        status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        message = page._('too_large')
    elif isinstance(exception, RateLimitException):
        status, message = HTTPStatus.TOO_MANY_REQUESTS, page._('locked')
    elif isinstance(exception, (UserError, UserWarning)):
        status, message = HTTPStatus.BAD_REQUEST, exception.message
    else:
        status, message = HTTPStatus.INTERNAL_SERVER_ERROR, page._('failed')
    return page.render('error.html', status=status, message=message)


def _posted(page, *names):
    return {n: (page.request.form.get(n) or '').strip() for n in names}


def _safe_next(page, value):
    "Only an address of this portal: never send a subscriber elsewhere"
    prefix = page.url()
    if value and value.startswith(prefix) and '//' not in value[1:]:
        return value
    return prefix


# --- signing in and up ------------------------------------------------------

def _sign_in(page, user):
    page.user = user
    page.session_key = user.new_session()
    page.set_cookie(SESSION_COOKIE, page.session_key)
    page.set_cookie(CSRF_COOKIE, None)
    page.new_browser_secret = None


@portal('/login', methods=('GET', 'POST'), signed_in=False)
def login(page):
    WebUser = page.pool.get('web.user')
    form = _posted(page, 'email', 'password', 'next')
    next_ = _safe_next(page, form['next'] or page.request.args.get('next'))
    error = None
    if page.request.method == 'POST':
        user = WebUser.authenticate(form['email'], form['password'])
        if user:
            _sign_in(page, user)
            return page.redirect(next_)
        error = page._('login_failed')
    done = page.request.args.get('done')
    return page.render('login.html', error=error, next=next_,
        email=form['email'], done=done if done in {'password', 'email'}
        else None,
        status=HTTPStatus.UNAUTHORIZED if error else HTTPStatus.OK)


@portal('/logout', methods=('POST',))
def logout(page):
    Session = page.pool.get('web.user.session')
    Session.remove(page.session_key)
    page.set_cookie(SESSION_COOKIE, None)
    return page.redirect(page.url('login'))


def _check_attempts(page, key):
    """Refuse when the proofs tried for key or from the network are too many:
    proving a subscription is limited as signing in is"""
    Attempt = page.pool.get('web.user.authenticate.attempt')
    if Attempt.count_ip() > config.getint(
            'session', 'max_attempt_ip_network', default=300):
        raise RateLimitException()
    if Attempt.count(key) > config.getint(
            'session', 'max_attempt', default=5):
        Attempt.add(key)
        raise RateLimitException()


def _count_network(page, prefix):
    "The attempts of the keys starting with prefix from the request's network"
    Attempt = page.pool.get('web.user.authenticate.attempt')
    _, network = Transaction().remote_address()
    return Attempt.search_count([
            ('login', 'like', prefix + '%'),
            ('ip_network', '=', str(network) if network else None),
            ('create_date', '>=', Attempt.delay()),
            ])


def _prove(page, number, code):
    """Return the subscription proved by its number and its activation
    code; count the failure (committed: the page is not an error)"""
    Subscription = page.pool.get('water.subscription')
    Attempt = page.pool.get('web.user.authenticate.attempt')
    key = 'water.subscription:' + number
    _check_attempts(page, key)
    subscription = Subscription.portal_proof(number, code)
    if subscription:
        Attempt.remove(key)
    else:
        Attempt.add(key)
    return subscription


def _password_errors(page, password):
    "The reasons the password is refused: too short, or Tryton's rules"
    User = page.pool.get('res.user')
    if len(password) < PASSWORD_LENGTH:
        return [page._('password_short', length=PASSWORD_LENGTH)]
    try:
        User.validate_password(password, [])
    except UserError as e:
        return [e.message]
    return []


def _mail(page, to, key, **variables):
    """Send (when the transaction commits) the e-mail of key to the address,
    in the page's language with the other one below"""
    bodies = []
    languages = [page.lang] + [l for l in LANGUAGES if l != page.lang]
    for code in languages:
        with Transaction().set_context(language=code):
            bodies.append(page._(key + '_body', **variables))
    with Transaction().set_context(language=page.lang):
        subject = page._(key + '_subject')
    msg = EmailMessage()
    msg['From'] = config.get('email', 'from')
    msg['To'] = to
    msg['Subject'] = subject
    msg['Content-Language'] = ', '.join(languages)
    # which e-mail of the portal it is, for the server's logs and filters
    msg['X-Water-Portal'] = key
    msg.set_content('\n\n---\n\n'.join(bodies))
    send_message_transactional(msg)


def _absolute(page, path, **query):
    """The address of path on the portal, for a link in an e-mail: from the
    configured address of the portal, never from the request (its Host
    header is the sender's to choose)"""
    base = config.get('water_portal', 'url')
    if not base or urlsplit(base).scheme not in {'http', 'https'}:
        logger.error("[water_portal] url is not configured: "
            "the portal cannot send the link of %s", '/'.join(path))
        raise PortalError('link_impossible',
            status=HTTPStatus.SERVICE_UNAVAILABLE)
    url = base.rstrip('/') + page.url(*path)
    if query:
        url += '?' + urlencode(query)
    return url


def _account_errors(page, form):
    "The reasons the e-mail and password of a new account are refused"
    WebUser = page.pool.get('web.user')
    if not (form['email'] and form['password']):
        return [page._('required')]
    if WebUser.search([('email', '=', form['email'].lower())], limit=1):
        return [page._('email_taken')]
    return _password_errors(page, form['password'])


def _tell_holder(page, subscription, user):
    """Tell the subscription's holder, at the e-mails on file, that a portal
    login now holds it: a stranger's is then known and removed by staff"""
    emails = {m.value.lower() for m in subscription.party.contact_mechanisms
        if m.type == 'email' and m.value}
    for email in sorted(emails):
        _mail(page, email, 'linked', number=subscription.number,
            login=tools.mask_email(user.email))


def _create_account(page, subscription, form):
    WebUser = page.pool.get('web.user')
    user, = WebUser.create([{
                'email': form['email'].lower(),
                'party': subscription.party.id,
                'password': form['password'],
                'water_subscriptions': [('add', [subscription.id])],
                }])
    _tell_holder(page, subscription, user)
    _sign_in(page, user)
    return page.redirect(page.url('s', subscription.id))


@portal('/signup', methods=('GET', 'POST'), signed_in=False)
def signup(page):
    form = _posted(page, 'number', 'activation', 'email', 'password')
    errors = []
    if page.request.method == 'POST':
        errors = ([page._('required')]
            if not (form['number'] and form['activation'])
            else _account_errors(page, form))
        if not errors:
            subscription = _prove(page, form['number'], form['activation'])
            if subscription:
                return _create_account(page, subscription, form)
            errors.append(page._('proof_failed'))
    return page.render('signup.html', errors=errors, form=form,
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK)


@portal('/signup/code', methods=('POST',), signed_in=False)
def signup_code(page):
    """No bill at hand: a one-time code to the e-mail the utility has on file
    for the subscriber (the counter's records), as proof"""
    Subscription = page.pool.get('water.subscription')
    Code = page.pool.get('water.portal.code')
    Attempt = page.pool.get('web.user.authenticate.attempt')
    number = _posted(page, 'number')['number']
    _check_attempts(page, 'code:' + number)
    # each code asked counts, sent or not (committed with the page): a few
    # e-mails per subscription and per address, not a mail bomb
    key = 'code-sent:' + number
    if (Attempt.count(key) >= config.getint(
                'water_portal', 'max_code', default=CODES_SENT)
            or _count_network(page, 'code-sent:') >= config.getint(
                'water_portal', 'max_code_ip_network',
                default=CODES_SENT_NETWORK)):
        raise RateLimitException()
    Attempt.add(key)
    subscriptions = Subscription.search([
            ('number', '=', number), ('state', '=', 'active')], limit=1)
    emails = [m.value for s in subscriptions
        for m in s.party.contact_mechanisms if m.type == 'email' and m.value]
    if not emails:
        # the same answer whether the number exists or not
        return error_page(page, PortalError('code_impossible'))
    code = Code.issue(subscriptions[0], emails[0])
    _mail(page, emails[0], 'code', code=code)
    return page.render('signup_code.html', number=number, errors=[],
        form=_posted(page, 'email'), sent_to=tools.mask_email(emails[0]))


@portal('/signup/code/verify', methods=('POST',), signed_in=False)
def signup_code_verify(page):
    Code = page.pool.get('water.portal.code')
    Attempt = page.pool.get('web.user.authenticate.attempt')
    form = _posted(page, 'number', 'code', 'email', 'password')
    key = 'code:' + form['number']
    _check_attempts(page, key)
    errors = _account_errors(page, form)
    if not errors:
        subscription = Code.redeem(form['number'], form['code'])
        if subscription:
            Attempt.remove(key)
            return _create_account(page, subscription, form)
        Attempt.add(key)
        errors.append(page._('code_wrong'))
    return page.render('signup_code.html', number=form['number'],
        errors=errors, form=form, sent_to=None,
        status=HTTPStatus.BAD_REQUEST)


@portal('/reset', methods=('GET', 'POST'), signed_in=False)
def reset(page):
    """Send a link to choose a new password; the page says the same whether
    the e-mail has an account or not"""
    WebUser = page.pool.get('web.user')
    form = _posted(page, 'email')
    sent = False
    if page.request.method == 'POST' and form['email']:
        _check_attempts(page, 'reset:' + form['email'].lower())
        users = WebUser.search([('email', '=', form['email'].lower())])
        now = dt.datetime.now()
        # one link at a time: a new one only when the last has expired
        users = [u for u in users if not (u.reset_password_token_expire
                and u.reset_password_token_expire > now)]
        for user in users:
            user.set_reset_password_token()
        WebUser.save(users)
        for user in users:
            _mail(page, user.email, 'reset', url=_absolute(page,
                    ('reset', 'new'), email=user.email,
                    token=user.reset_password_token))
        sent = True
    return page.render('reset.html', form=form, sent=sent)


def _reset_password(page, email, token, password):
    """Set the password of the e-mail's account when token is its valid
    reset token, used up then.  The wrong tokens are counted and capped per
    e-mail and per address like the proofs, apart from the sign-ins: a
    stranger's guesses do not lock the owner out of signing in"""
    WebUser = page.pool.get('web.user')
    Attempt = page.pool.get('web.user.authenticate.attempt')
    email = email.lower()
    key = 'reset-token:' + email
    _check_attempts(page, key)
    users = WebUser.search([('email', '=', email)], limit=1) if email else []
    user = users[0] if users else None
    if (user and token and user.reset_password_token
            and hmac.compare_digest(user.reset_password_token, token)
            and user.reset_password_token_expire > dt.datetime.now()):
        user.clear_reset_password_token()
        user.password = password
        user.save()
        Attempt.remove(key)
        return True
    Attempt.add(key)
    return False


@portal('/reset/new', methods=('GET', 'POST'), signed_in=False)
def reset_new(page):
    source = (page.request.form if page.request.method == 'POST'
        else page.request.args)
    email = (source.get('email') or '').strip()
    token = (source.get('token') or '').strip()
    errors = []
    if page.request.method == 'POST':
        password = page.request.form.get('password') or ''
        errors = _password_errors(page, password)
        if not errors:
            if _reset_password(page, email, token, password):
                return page.redirect(page.url('login', done='password'))
            errors.append(page._('reset_expired'))
    return page.render('reset_new.html', email=email, token=token,
        errors=errors,
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK)


@portal('/contact', methods=('GET', 'POST'))
def contact(page):
    """The subscriber's phone and e-mail: the current password confirms the
    change; a new e-mail becomes the login only once its link is opened"""
    pool = page.pool
    WebUser = pool.get('web.user')
    Attempt = pool.get('web.user.authenticate.attempt')
    Mechanism = pool.get('party.contact_mechanism')
    user = page.user
    form = _posted(page, 'phone', 'email', 'password')
    errors, done = [], None
    if page.request.method == 'POST':
        key = 'contact:%s' % user.id
        _check_attempts(page, key)
        valid, _ = WebUser.check_password(
            page.request.form.get('password') or '', user.password_hash)
        if not valid:
            Attempt.add(key)
            errors.append(page._('password_wrong'))
        elif not (form['phone'] or form['email']):
            errors.append(page._('required'))
        else:
            Attempt.remove(key)
            if form['phone'] and user.party:
                mechanism = Mechanism(party=user.party, type='mobile',
                    value=form['phone'][:40])
                try:
                    mechanism.save()
                except UserError:
                    raise PortalError('phone_invalid')
                done = 'phone'
            email = form['email'].lower()
            if email and email != user.email:
                if WebUser.search([('email', '=', email)], limit=1):
                    errors.append(page._('email_taken'))
                else:
                    user.portal_email = email
                    user.set_email_token()
                    user.save()
                    _mail(page, email, 'confirm', url=_absolute(page,
                            ('contact', 'confirm'), token=user.email_token))
                    done = 'email'
    phones = [m for m in user.party.contact_mechanisms
        if m.type in {'mobile', 'phone'}] if user.party else []
    return page.render('contact.html', form=form, errors=errors, done=done,
        phones=phones,
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK)


@portal('/contact/confirm', signed_in=False, methods=('GET', 'POST'))
def contact_confirm(page):
    "The link of the e-mail: the new address becomes the login"
    WebUser = page.pool.get('web.user')
    token = (page.request.args.get('token')
        or page.request.form.get('token') or '').strip()
    if page.request.method == 'GET':
        # a confirmation is a change: asked by a button, not by the link's
        # mere opening (mail scanners open links)
        return page.render('confirm.html', token=token)
    users = WebUser.search([
            ('email_token', '=', token),
            ('portal_email', '!=', None),
            ]) if token else []
    if not users:
        raise PortalError('reset_expired')
    user, = users
    WebUser.write([user], {
            'email': user.portal_email,
            'portal_email': None,
            'email_valid': True,
            'email_token': None,
            })
    return page.redirect(page.url('login', done='email'))


@portal('/lang/<code>')
def language(page, code):
    if code not in LANGUAGES:
        raise NotFound()
    page.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600)
    back = page.request.referrer or ''
    return page.redirect(_safe_next(page, urlsplit(back).path))


# --- the subscriber's subscriptions ------------------------------------------

@portal('/')
def home(page):
    from .payment import subscription_balances
    subscriptions = list(page.user.water_subscriptions)
    balances = subscription_balances([s.id for s in subscriptions])
    return page.render('home.html', subscriptions=subscriptions,
        balances=balances)


@portal('/add', methods=('GET', 'POST'))
def add(page):
    WebUser = page.pool.get('web.user')
    form = _posted(page, 'number', 'activation')
    errors = []
    if page.request.method == 'POST':
        subscription = _prove(page, form['number'], form['activation'])
        if not subscription:
            errors.append(page._('proof_failed'))
        else:
            if not page.user.portal_subscription(subscription.id):
                WebUser.write([page.user], {
                        'water_subscriptions': [('add', [subscription.id])],
                        })
                _tell_holder(page, subscription, page.user)
            return page.redirect(page.url('s', subscription.id))
    return page.render('add.html', errors=errors, form=form,
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK)


def _to_pay(pool, subscription):
    """The posted invoices of the subscription left to pay (bills, and
    adjustments or violations without a bill), oldest first, each as
    (invoice, its bill or None, due date)"""
    Invoice = pool.get('account.invoice')
    Bill = pool.get('water.bill')
    invoices = [i for i in Invoice.search([
                ('water_subscription', '=', subscription.id),
                ('type', '=', 'out'),
                ('state', '=', 'posted'),
                ], order=[('invoice_date', 'ASC'), ('id', 'ASC')])
        if i.amount_to_pay > 0]
    bills = {b.invoice.id: b for b in Bill.search([
                ('invoice', 'in', [i.id for i in invoices]),
                ])}
    result = []
    for invoice in invoices:
        dates = [l.maturity_date for l in invoice.lines_to_pay
            if not l.reconciliation and l.maturity_date]
        result.append((invoice, bills.get(invoice.id),
                min(dates) if dates else None))
    return result


def _recent_bills(pool, subscription, limit=12):
    Bill = pool.get('water.bill')
    return Bill.search([
            ('subscription', '=', subscription.id),
            ('state', 'in', ['posted', 'credited']),
            ], order=[('month', 'DESC'), ('id', 'DESC')], limit=limit)


def _statement(pool, subscription, limit=None):
    Line = pool.get('water.statement.line')
    with Transaction().set_context(water_subscription=subscription.id):
        lines = Line.search([('subscription', '=', subscription.id)],
            order=[('date', 'DESC'), ('id', 'DESC')], limit=limit)
    return list(reversed(lines))


def _chart(page, bills):
    "The consumption of the bills, oldest first, with its bars"
    bills = [b for b in reversed(bills) if b.state == 'posted']
    values = [float(b.consumption or 0) for b in bills]
    bars = tools.chart_bars(values, 600, 160, rtl=page.lang == 'ar')
    return list(zip(bills, bars))


@portal('/s/<int:subscription_id>')
def subscription(page, subscription_id):
    from .payment import subscription_balances
    subscription = page.subscription(subscription_id)
    pool = page.pool
    Request = pool.get('water.request')
    with page.set_company(subscription):
        balance = subscription_balances([subscription.id])[subscription.id]
        recent = _recent_bills(pool, subscription)
        requests = Request.search([
                ('subscription', '=', subscription.id),
                ], order=[('received', 'DESC')], limit=10)
        return page.render('subscription.html', subscription=subscription,
            balance=balance, currency=subscription.company.currency,
            to_pay=_to_pay(pool, subscription), bills=recent,
            chart=_chart(page, recent), statement=_statement(
                pool, subscription, limit=10),
            requests=requests, today=dt.date.today())


@portal('/s/<int:subscription_id>/statement')
def statement(page, subscription_id):
    subscription = page.subscription(subscription_id)
    with page.set_company(subscription):
        return page.render('statement.html', subscription=subscription,
            currency=subscription.company.currency,
            lines=_statement(page.pool, subscription))


def _pdf(page, report_name, records, filename):
    Report = page.pool.get(report_name, type='report')
    ext, content, _, _ = Report.execute([r.id for r in records], {})
    if ext != 'pdf':
        raise PortalError('failed', status=HTTPStatus.INTERNAL_SERVER_ERROR)
    response = Response(bytes(content), content_type='application/pdf')
    response.headers['Content-Disposition'] = (
        'attachment; filename="%s.pdf"' % filename)
    return page.respond(response)


@portal('/s/<int:subscription_id>/statement.pdf')
def statement_pdf(page, subscription_id):
    subscription = page.subscription(subscription_id)
    with page.set_company(subscription):
        return _pdf(page, 'water.statement', [subscription],
            'statement-%s' % subscription.number)


@portal('/s/<int:subscription_id>/consumption.csv')
def consumption_csv(page, subscription_id):
    "The consumption of every bill, for a spreadsheet"
    from .report_html import csv_bytes
    subscription = page.subscription(subscription_id)
    Bill = page.pool.get('water.bill')
    bills = Bill.search([
            ('subscription', '=', subscription.id),
            ('state', '=', 'posted'),
            ], order=[('month', 'ASC')])
    header = [page._(k) for k in ['month', 'previous_reading',
            'current_reading', 'consumption_m3', 'estimated']]
    rows = [(b.month.strftime('%Y-%m'), b.previous_value, b.current_value,
            b.consumption, page._('yes') if b.estimated else '')
        for b in bills]
    response = Response(csv_bytes(header, rows),
        content_type='text/csv; charset=utf-8')
    response.headers['Content-Disposition'] = (
        'attachment; filename="consumption-%s.csv"' % subscription.number)
    return page.respond(response)


@portal('/s/<int:subscription_id>/bill/<int:bill_id>.pdf')
def bill_pdf(page, subscription_id, bill_id):
    Bill = page.pool.get('water.bill')
    subscription = page.subscription(subscription_id)
    bills = Bill.search([
            ('id', '=', bill_id),
            ('subscription', '=', subscription.id),
            ('state', 'in', ['posted', 'credited']),
            ])
    if not bills:
        raise NotFound()
    bill, = bills
    with page.set_company(subscription):
        return _pdf(page, 'water.bill', [bill],
            'bill-%s' % (bill.invoice.number if bill.invoice else bill.id))


# --- requests and complaints -------------------------------------------------

def _portal_types(pool):
    Type = pool.get('water.request.type')
    return Type.search([('portal', '=', True)])


def _photo(page):
    "The photo posted, as (data, extension), or None; refused if not a photo"
    upload = page.request.files.get('photo')
    if not upload or not upload.filename:
        return None
    try:
        data = upload.read(tools.PHOTO_MAX_SIZE + 1)
    finally:
        upload.close()
    if len(data) > tools.PHOTO_MAX_SIZE:
        raise RequestEntityTooLarge()
    if not tools.photo_format(data):
        raise PortalError('photo_type')
    # stored as a new JPEG: nothing the sender hid in the file is kept
    photo = tools.reencode_photo(data)
    if not photo:
        raise PortalError('photo_pixels',
            megapixels=tools.PHOTO_MAX_PIXELS // 1_000_000)
    return photo, 'jpg'


def _sent_today(page, subscription):
    """The requests and the readings the portal received for the
    subscription in the last 24 hours"""
    pool = page.pool
    Request = pool.get('water.request')
    Reading = pool.get('water.reading')
    since = dt.datetime.now() - dt.timedelta(days=1)
    requests = Request.search([
            ('subscription', '=', subscription.id),
            ('channel', '=', 'portal'),
            ('create_date', '>=', since),
            ])
    readings = Reading.search([
            ('subscription', '=', subscription.id),
            ('source', '=', 'portal'),
            ('create_date', '>=', since),
            ])
    return requests, readings


def _check_daily(page, subscription, kind, photo):
    """Refuse a request or a reading (kind) beyond what one subscription
    may send in a day, or a photo beyond its day's bytes: one account
    cannot fill the staff's queues or the disk"""
    Attachment = page.pool.get('ir.attachment')
    requests, readings = _sent_today(page, subscription)
    sent = requests if kind == 'requests' else readings
    cap = config.getint('water_portal', 'max_%s_day' % kind,
        default=DAILY_CAPS[kind])
    if len(sent) >= cap:
        raise PortalError('%s_cap' % kind, HTTPStatus.TOO_MANY_REQUESTS,
            count=cap)
    if photo:
        photos = Attachment.search([
                ('resource', 'in', [str(r) for r in requests + readings]),
                ])
        limit = config.getint('water_portal', 'max_photo_bytes_day',
            default=PHOTO_BYTES_DAY)
        if sum(a.data_size or 0 for a in photos) + len(photo[0]) > limit:
            raise PortalError('photos_cap', HTTPStatus.TOO_MANY_REQUESTS,
                megabytes=limit // (1024 * 1024))


def _attach(pool, record, photo, name):
    Attachment = pool.get('ir.attachment')
    if photo:
        data, extension = photo
        Attachment.create([{
                    'resource': str(record),
                    'name': '%s.%s' % (name, extension),
                    'type': 'data',
                    'data': data,
                    }])


@portal('/s/<int:subscription_id>/request', methods=('GET', 'POST'),
    max_size=UPLOAD_MAX_SIZE)
def new_request(page, subscription_id):
    Request = page.pool.get('water.request')
    subscription = page.subscription(subscription_id)
    types = _portal_types(page.pool)
    form = _posted(page, 'type', 'description', 'phone')
    errors = []
    if page.request.method == 'POST':
        type_ = next((t for t in types if str(t.id) == form['type']), None)
        if not type_ or not form['description']:
            errors.append(page._('required'))
        else:
            photo = _photo(page)
            _check_daily(page, subscription, 'requests', photo)
            with page.set_company(subscription):
                request, = Request.create([{
                            'company': subscription.company.id,
                            'subscription': subscription.id,
                            'type': type_.id,
                            'channel': 'portal',
                            'description': form['description'][:4000],
                            'caller_name': page.user.email,
                            'caller_phone': form['phone'][:40] or None,
                            'received': dt.datetime.now(),
                            }])
                _attach(page.pool, request, photo, 'photo')
            return page.redirect(
                page.url('s', subscription.id, 'request', request.id))
    return page.render('request_new.html', subscription=subscription,
        types=types, form=form, errors=errors,
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK)


def _request(page, subscription, request_id):
    Request = page.pool.get('water.request')
    requests = Request.search([
            ('id', '=', request_id),
            ('subscription', '=', subscription.id),
            ])
    if not requests:
        raise NotFound()
    return requests[0]


def _pending_survey(pool, request):
    Survey = pool.get('water.survey.satisfaction')
    surveys = Survey.search([
            ('request', '=', request.id),
            ('state', '=', 'pending'),
            ], limit=1)
    return surveys[0] if surveys else None


@portal('/s/<int:subscription_id>/request/<int:request_id>')
def request_page(page, subscription_id, request_id):
    subscription = page.subscription(subscription_id)
    with page.set_company(subscription):
        request = _request(page, subscription, request_id)
        return page.render('request.html', subscription=subscription,
            request=request, survey=_pending_survey(page.pool, request))


@portal('/s/<int:subscription_id>/request/<int:request_id>/reopen',
    methods=('POST',))
def reopen_request(page, subscription_id, request_id):
    Request = page.pool.get('water.request')
    subscription = page.subscription(subscription_id)
    reason = _posted(page, 'reason')['reason']
    with page.set_company(subscription):
        request = _request(page, subscription, request_id)
        if request.state not in {'resolved', 'closed'} or not reason:
            raise PortalError('reopen_refused')
        Request.do_reopen([request], reason[:2000])
    return page.redirect(page.url('s', subscription.id, 'request', request.id))


@portal('/s/<int:subscription_id>/request/<int:request_id>/survey',
    methods=('POST',))
def answer_survey(page, subscription_id, request_id):
    Survey = page.pool.get('water.survey.satisfaction')
    subscription = page.subscription(subscription_id)
    form = _posted(page, 'score', 'comment')
    with page.set_company(subscription):
        request = _request(page, subscription, request_id)
        survey = _pending_survey(page.pool, request)
        if not survey or form['score'] not in {'1', '2', '3', '4', '5'}:
            raise PortalError('survey_refused')
        Survey.answer([survey], score=int(form['score']),
            comment=form['comment'][:2000] or None, channel='portal')
    return page.redirect(page.url('s', subscription.id, 'request', request.id))


# --- self-reading ------------------------------------------------------------

@portal('/s/<int:subscription_id>/reading', methods=('GET', 'POST'),
    max_size=UPLOAD_MAX_SIZE)
def reading(page, subscription_id):
    pool = page.pool
    Row = pool.get('water.reading.import.row')
    Reading = pool.get('water.reading')
    subscription = page.subscription(subscription_id)
    form = _posted(page, 'value')
    errors, done = [], None
    if page.request.method == 'POST':
        value = tools.parse_amount(form['value'])
        photo = _photo(page)
        if value is None:
            errors.append(page._('reading_value'))
        else:
            _check_daily(page, subscription, 'readings', photo)
            with page.set_company(subscription):
                # the same validation as any reading of a file or a handheld
                row, = Row.process([{
                            'subscription_code': subscription.number,
                            'read_at': dt.date.today().isoformat(),
                            'value': str(value),
                            'source': 'portal',
                            'reader': ('portal:' + page.user.email)[:100],
                            }])
                if row['state'] == 'accepted':
                    done = Reading(row['reading'])
                    _attach(pool, done, photo, 'dial')
                elif row['state'] == 'duplicate':
                    errors.append(page._('reading_duplicate'))
                else:
                    errors.append(row['reason'])
    last = Reading.search([
            ('subscription', '=', subscription.id),
            ('value', '!=', None),
            ('state', 'in', ['valid', 'billed']),
            ], order=[('date', 'DESC'), ('id', 'DESC')], limit=1)
    return page.render('reading.html', subscription=subscription, form=form,
        errors=errors, done=done, last=last[0] if last else None,
        status=HTTPStatus.BAD_REQUEST if errors else HTTPStatus.OK)


@portal('/<path:rest>', methods=('GET', 'POST'), signed_in=False)
def not_found(page, rest):
    "Any other address of the portal: the friendly page, not werkzeug's"
    raise NotFound()
