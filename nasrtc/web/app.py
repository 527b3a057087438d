"""The web page as a WSGI application: one request at a time (one person sets up one NAS),
each checked by the guard before anything else, answered in the browser's language.

Routes: /start (the one-time link), /language, /static/*; behind the session: / (where
you are), /wizard (the questions), /check (the same checks as you type, JSON),
/summary, /write, /stack (after writing: next steps, proxy rows, drawing, checklist,
buttons), /checklist, /setup.svg, /run, /job, /done."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, quote

from nasrtc.errors import NasrtcError
from nasrtc.i18n import LANGUAGES, N_, _, match, speaking
from nasrtc.package import read_package_bytes
from nasrtc.web import form as wizard_form
from nasrtc.web.guard import LANGUAGE_COOKIE, LINK_PATH, MAX_BODY, SESSION_COOKIE, Guard
from nasrtc.web.jobs import COMMANDS, Runner

HTML = "text/html; charset=utf-8"
# The page's own files only; the checklist is a self-contained page with its style inline.
PAGE_POLICY = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
               "connect-src 'self'; form-action 'self'; frame-src 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")
PRINT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
STATIC = {"page.css": "text/css; charset=utf-8", "check.js": "text/javascript; charset=utf-8"}
JOB_TITLES = {"up": N_("Start"), "status": N_("Status"), "doctor": N_("Check this NAS"),
              "doctor-public": N_("Check from the internet"), "logs": N_("Logs"),
              "down": N_("Stop")}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    asked: set[str]
    cookies: dict[str, str]
    host: str | None
    languages: str  # Accept-Language


@dataclass
class Response:
    status: str
    body: bytes
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)
    policy: str = PAGE_POLICY


class Refused(Exception):
    """A request the page does not take, answered with a page that says why."""

    def __init__(self, status: str, title: str, text: str) -> None:
        super().__init__(title)
        self.status, self.title, self.text = status, title, text


def _environment() -> Any:
    import jinja2
    import markupsafe

    from nasrtc import i18n

    def load(name: str) -> str | None:
        data = read_package_bytes(f"web/templates/{name}")
        return None if data is None else data.decode("utf-8")

    env = jinja2.Environment(loader=jinja2.FunctionLoader(load), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n._, ngettext=i18n.ngettext, newstyle=True)
    from nasrtc.output.render import _html

    def code(text: Any) -> Any:  # `x` as <code>x</code>, the rest escaped once
        raw = text.unescape() if isinstance(text, markupsafe.Markup) else str(text)
        return markupsafe.Markup(_html(raw))

    env.filters["code"] = code
    return env


def read_request(environ: dict[str, Any]) -> Request:
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    query = {k: v[0] for k, v in parse_qs(str(environ.get("QUERY_STRING", "")),
                                          max_num_fields=20).items()}
    form: dict[str, str] = {}
    asked: set[str] = set()
    if method == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            raise Refused("413 Content Too Large", _("Too much sent"), _(
                "This page takes at most 64 KiB per request; nothing was changed."))
        body = environ["wsgi.input"].read(length) if length else b""
        kind = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
        if body and kind != "application/x-www-form-urlencoded":
            raise Refused("415 Unsupported Media Type", _("Not a form"), _(
                "This page takes only its own forms; nothing was changed."))
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True,
                              max_num_fields=200, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            raise Refused("400 Bad Request", _("Not a form"), _(
                "This page takes only its own forms; nothing was changed.")) from None
        form = {k: v[0] for k, v in fields.items()}
        asked = set(fields.get(wizard_form.ASKED, []))
    cookies: dict[str, str] = {}
    try:
        jar = SimpleCookie(str(environ.get("HTTP_COOKIE", ""))[:4096])
        cookies = {name: morsel.value for name, morsel in jar.items()}
    except CookieError:
        pass
    return Request(method, str(environ.get("PATH_INFO", "/")) or "/", query, form, asked,
                   cookies, environ.get("HTTP_HOST"), str(environ.get("HTTP_ACCEPT_LANGUAGE", "")))


def page_language(request: Request) -> str:
    """The language switch's choice, else the browser's first language nasrtc speaks."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    ranked = []
    for index, part in enumerate(request.languages.split(",")[:20]):
        name, _sep, weight = part.strip().partition(";q=")
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            quality = 0.0
        ranked.append((-quality, index, name.strip()))
    for _quality, _index, name in sorted(ranked):
        found = match(name) if name and name != "*" else None
        if found:
            return found
    return "en"


def _local_path(text: str) -> str:
    """A path on this page to go back to, never another site: letters, digits and / . _ -
    only (browsers drop tabs and newlines, so "/\t/evil" would become "//evil")."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-")
    if text.startswith("/") and not text.startswith("//") and set(text) <= allowed \
            and len(text) < 200:
        return text
    return "/"


class WebApp:
    def __init__(self, guard: Guard, host: wizard_form.Host, folder: Path | None,
                 say: Callable[[str], None]) -> None:
        self.guard = guard
        self.host = host
        self.fixed_folder = folder  # --dir: the page does not ask for a folder
        self.say = say  # standard output: the container's log
        self.env = _environment()
        self._one_at_a_time = threading.Lock()
        self.last_form: dict[str, str] = {}
        self.last_asked: set[str] = set()
        self.pending: tuple[Path, dict[str, Any]] | None = None
        self.stack_dir: Path | None = folder
        self.runner: Runner | None = None
        self.last_request = time.monotonic()
        self.done = False

    # -- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._one_at_a_time:
            self.last_request = time.monotonic()
            response = self._respond(environ)
        headers = [("Content-Type", response.content_type),
                   ("Content-Length", str(len(response.body))),
                   ("Cache-Control", "no-store"),
                   ("X-Content-Type-Options", "nosniff"),
                   ("Referrer-Policy", "no-referrer"),  # the link's token stays here
                   ("X-Frame-Options", "SAMEORIGIN"),
                   ("Content-Security-Policy", response.policy),
                   *response.headers]
        start_response(response.status, headers)
        return [response.body]

    def _respond(self, environ: dict[str, Any]) -> Response:
        language = "en"
        try:
            if not self.guard.host_allowed(environ.get("HTTP_HOST")):
                # Before anything else: a page reached under a stranger's name (DNS
                # rebinding) learns nothing, not even the language.
                return Response("421 Misdirected Request", _(
                    "nasrtc: this page answers only under the NAS's own address").encode(),
                    "text/plain; charset=utf-8")
            request = read_request(environ)
            language = page_language(request)
            with speaking(language):
                return self._route(request, language)
        except Refused as refused:
            with speaking(language):
                return self._message(refused.status, refused.title, refused.text, language)
        except Exception as exc:  # a bug: said in one line, here and in the log
            self.say(f"nasrtc web: internal error: {exc.__class__.__name__}: {exc}")
            with speaking(language):
                return self._message("500 Internal Server Error", _("Something went wrong"), _(
                    "nasrtc: internal error: {error}").format(
                        error=exc.__class__.__name__), language, _(
                    "reload the page; if it happens again, report it with the line nasrtc "
                    "wrote to its log"))

    # -- routing ------------------------------------------------------------------------

    def _route(self, request: Request, language: str) -> Response:
        path = request.path
        if path.startswith("/static/") and request.method == "GET":
            return self._static(path[len("/static/"):])
        if path == LINK_PATH and request.method == "GET":
            return self._exchange(request, language)
        if path == "/language" and request.method == "GET":
            chosen = request.query.get("to", "")
            cookie = (f"{LANGUAGE_COOKIE}={chosen}; Path=/; SameSite=Strict; HttpOnly"
                      if chosen in LANGUAGES else "")
            return self._redirect(_local_path(request.query.get("back", "/")),
                                  [("Set-Cookie", cookie)] if cookie else [])
        self._signed_in(request)
        if request.method == "POST" and not self.guard.csrf_ok(request.form.get("csrf")):
            raise Refused("403 Forbidden", _("This form has expired"), _(
                "It was not sent from this page as it is now (no valid form token), so "
                "nothing was changed: go back, reload the page and send it again."))
        routes: dict[tuple[str, str], Callable[[Request, str], Response]] = {
            ("GET", "/"): self._home,
            ("GET", "/wizard"): self._wizard,
            ("POST", "/wizard"): self._wizard,
            ("POST", "/check"): self._check,
            ("GET", "/summary"): self._summary,
            ("POST", "/write"): self._write,
            ("GET", "/stack"): self._stack,
            ("GET", "/checklist"): self._checklist,
            ("GET", "/setup.svg"): self._drawing,
            ("POST", "/run"): self._run,
            ("GET", "/job"): self._job,
            ("POST", "/done"): self._done,
        }
        handler = routes.get((request.method, path))
        if handler is None:
            raise Refused("404 Not Found", _("No such page"), _(
                "Start again from the first page."))
        return handler(request, language)

    def _signed_in(self, request: Request) -> None:
        state = self.guard.signed_in(request.cookies.get(SESSION_COOKIE))
        if state == "replaced":
            raise Refused("403 Forbidden", _("Signed out here"), _(
                "The link was opened in another browser, which now holds the only session. "
                "To use this browser instead, open a new link from nasrtc's log."))
        if state != "yes":
            raise Refused("403 Forbidden", _("This page needs its link"), _(
                "Open the link nasrtc printed when it started (in Container Manager: "
                "Container › the nasrtc container › Log; in a terminal: the lines above "
                "the prompt). It works once, in one browser."))

    def _exchange(self, request: Request, language: str) -> Response:
        outcome = self.guard.exchange(request.query.get("t"))
        if outcome == "ok":
            cookie = (f"{SESSION_COOKIE}={self.guard.session}; Path=/; HttpOnly; "
                      "SameSite=Strict")
            return self._redirect("/", [("Set-Cookie", cookie)])
        if outcome == "used":
            self.say_link(_("nasrtc web: that link was used already; a new one:"))
            raise Refused("403 Forbidden", _("This link was used already"), _(
                "Each link works once. nasrtc has just put a new one in its log: open that "
                "one (the browser that used this link first stays signed in)."))
        raise Refused("403 Forbidden", _("This page needs its link"), _(
            "This link is not the one nasrtc printed (a typo, or from an earlier start). "
            "Open the newest link from nasrtc's log."))

    def say_link(self, intro: str) -> None:
        self.say(intro)
        self.say(f"  {self.base_url}{LINK_PATH}?t={self.guard.new_link()}")

    base_url = ""  # set by the server once it listens

    # -- pages --------------------------------------------------------------------------

    def _render(self, template: str, language: str, back: str, **values: Any) -> bytes:
        from nasrtc import __version__

        page = self.env.get_template(template).render(
            lang=language, lang_tag=language.replace("_", "-"),
            languages=list(LANGUAGES.items()), back=quote(back, safe="/"),
            csrf=self.guard.csrf or "", version=__version__, **values)
        return str(page).encode("utf-8")

    def _message(self, status: str, title: str, text: str, language: str,
                 fix: str = "", back: str = "/") -> Response:
        return Response(status, self._render("message.html.j2", language, back, title=title,
                                             text=text, fix=fix))

    def _redirect(self, where: str, headers: list[tuple[str, str]] | None = None) -> Response:
        return Response("303 See Other", b"", "text/plain", [("Location", where),
                                                            *(headers or [])])

    def _static(self, name: str) -> Response:
        data = read_package_bytes(f"web/static/{name}") if name in STATIC else None
        if data is None:
            raise Refused("404 Not Found", _("No such page"), _(
                "Start again from the first page."))
        return Response("200 OK", data, STATIC[name])

    def _home(self, request: Request, language: str) -> Response:
        folder = self._stack_folder()
        return self._redirect("/stack" if folder else "/wizard")

    def _stack_folder(self) -> Path | None:
        """The stack this page shows once written: nasrtc.yaml in the folder."""
        from nasrtc.answers import ANSWERS_FILE

        folder = self.stack_dir
        if folder is not None and (folder / ANSWERS_FILE).is_file() \
                and (folder / "compose.yaml").is_file():
            return folder
        return None

    def _wizard(self, request: Request, language: str) -> Response:
        if request.method == "POST":
            self.last_form, self.last_asked = request.form, request.asked
        outcome = wizard_form.evaluate(self.last_form, self.last_asked, self.host,
                                       self.fixed_folder)
        if request.method == "POST" and request.form.get("action") == "next" \
                and outcome.complete:
            self.pending = (outcome.folder, outcome.ctx.raw())
            return self._redirect("/summary")
        return Response("200 OK", self._render(
            "wizard.html.j2", language, "/wizard", outcome=outcome,
            folder_fixed=self.fixed_folder is not None,
            asked_before=bool(self.last_asked)))

    def _check(self, request: Request, language: str) -> Response:
        """The checks as you type: each field's problem and the default it offers now."""
        outcome = wizard_form.evaluate(request.form, request.asked, self.host,
                                       self.fixed_folder)
        data = {"fields": {f.key: {"problem": f.problem, "offered": f.offered}
                           for f in outcome.fields},
                "order": [f.key for f in outcome.fields]}
        return Response("200 OK", json.dumps(data).encode(), "application/json")

    def _plan(self) -> Any:
        from nasrtc.answers import resolve
        from nasrtc.commands.init import in_this_language
        from nasrtc.output.plan import plan_files

        assert self.pending is not None
        folder, raw = self.pending
        return plan_files(folder, resolve(in_this_language(raw)), write_answers_file=True,
                          secrets="new")

    def _summary(self, request: Request, language: str) -> Response:
        from nasrtc.commands._common import file_state
        from nasrtc.output.summary import answer_rows
        from nasrtc.reach.advice import line_verdict

        if self.pending is None:
            return self._redirect("/wizard")
        try:
            plan = self._plan()
        except NasrtcError as exc:
            return self._message("200 OK", _("These answers cannot be written"), exc.message,
                                 language, exc.fix, back="/wizard")
        _line, headline, steps = line_verdict(plan.stack)
        files = [(rel, state, file_state(state)) for rel, state in plan.status().items()]
        return Response("200 OK", self._render(
            "summary.html.j2", language, "/summary", stack=plan.stack, folder=plan.stack_dir,
            rows=answer_rows(plan.stack), headline=headline, steps=steps, files=files,
            edited=[rel for rel, state, _shown in files if state == "edited"]))

    def _write(self, request: Request, language: str) -> Response:
        from nasrtc.answers import ANSWERS_FILE
        from nasrtc.cli import check_host_path
        from nasrtc.locate import remember
        from nasrtc.lock import stack_lock
        from nasrtc.output.plan import apply_plan

        if self.pending is None:
            return self._redirect("/wizard")
        folder = self.pending[0]
        if self.runner is not None and self.runner.busy():
            raise Refused("409 Conflict", _("Wait a moment"), _(
                "nasrtc is still running a command for this stack; write the files when it "
                "has finished."))
        try:
            check_host_path(folder)
            folder.mkdir(parents=True, exist_ok=True)
            with stack_lock(folder, wait=0):
                plan = self._plan()
                result = apply_plan(plan, force=request.form.get("force") == "yes",
                                    force_files=frozenset({ANSWERS_FILE}),
                                    command="nasrtc web")
        except NasrtcError as exc:
            # The answers stay here (and nothing is written while another nasrtc holds
            # the folder): the same Write after the fix.
            fix = exc.fix + ("; " if exc.fix else "") + _(
                "your answers stay on this page: press Write again after the fix")
            return self._message("200 OK", _("Nothing was written"), exc.message, language,
                                 fix, back="/summary")
        remember(folder)
        self.stack_dir, self.pending = folder, None
        self.runner = None
        self.say(_("nasrtc web: wrote the call stack for {domain} in {folder}").format(
            domain=result.stack.domain, folder=folder))
        return self._redirect("/stack")

    def _load(self, language: str) -> Any:
        from nasrtc.stack import load_stack

        folder = self._stack_folder()
        if folder is None:
            raise Refused("404 Not Found", _("No stack yet"), _(
                "Answer the questions first; this page shows the stack once its files are "
                "written."))
        try:
            return load_stack(folder, secrets="none")[1]
        except NasrtcError as exc:
            raise Refused("200 OK", _("The stack's files have a problem"),
                          exc.render()) from None

    def _stack(self, request: Request, language: str) -> Response:
        from nasrtc.output.checklist import build_checklist
        from nasrtc.output.summary import next_steps

        stack = self._load(language)
        assert self.stack_dir is not None
        steps = next_steps(stack, self.stack_dir, start=_(
            "Start: the Start button below (it runs `{nasrtc} up`)"))
        proxy = [s for s in build_checklist(stack).sections if s.kind == "proxy"]
        return Response("200 OK", self._render(
            "stack.html.j2", language, "/stack", stack=stack, folder=self.stack_dir,
            steps=steps[:-1], proxy=proxy, buttons=self._buttons(), job=self._current()))

    def _buttons(self) -> list[tuple[str, str]]:
        return [(name, _(JOB_TITLES[name])) for name in COMMANDS]

    def _current(self) -> Any:
        return self.runner.job if self.runner is not None else None

    def _checklist(self, request: Request, language: str) -> Response:
        from nasrtc.commands.checklist import looked_up
        from nasrtc.output.render import render_checklist

        stack = self._load(language)
        text = render_checklist(stack, "html", looked_up(stack))
        return Response("200 OK", text.encode("utf-8"), policy=PRINT_POLICY)

    def _drawing(self, request: Request, language: str) -> Response:
        from nasrtc.output.diagram import setup_svg

        stack = self._load(language)
        return Response("200 OK", setup_svg(stack).encode("utf-8"),
                        "image/svg+xml; charset=utf-8",
                        policy="default-src 'none'; style-src 'unsafe-inline'")

    def _run(self, request: Request, language: str) -> Response:
        name = request.form.get("name", "")
        folder = self._stack_folder()
        if name not in COMMANDS or folder is None:
            raise Refused("400 Bad Request", _("No such button"), _(
                "Start again from the first page."))
        if self.runner is None or self.runner.stack_dir != folder:
            self.runner = Runner(folder)
        if not self.runner.start(name, language):
            raise Refused("409 Conflict", _("Wait a moment"), _(
                "nasrtc is still running a command for this stack; its output is on the "
                "page of that command. Press the button again when it has finished."))
        return self._redirect("/job")

    def _job(self, request: Request, language: str) -> Response:
        from nasrtc.commands.doctor import MARKS

        job = self._current()
        if job is None:
            return self._redirect("/stack")
        table = _job_table(job) if not job.running else None
        return Response("200 OK", self._render(
            "job.html.j2", language, "/job", job=job, title=_(JOB_TITLES[job.name]),
            table=table, marks={k: _(v) for k, v in MARKS.items()},
            buttons=self._buttons(), refresh=2 if job.running else 0,
            text=job.output))

    def _done(self, request: Request, language: str) -> Response:
        self.done = True
        return self._message("200 OK", _("Done: this page has stopped"), _(
            "nasrtc's web page no longer answers, and its container stops (the call stack "
            "keeps running). To open the page again, start the nasrtc container again (in "
            "Container Manager: Project › nasrtc › Start); its log then has a new link."),
            language)

    @property
    def stack_up(self) -> bool:
        """This page started the stack (and did not stop it since): the idle clock runs."""
        return self.runner is not None and self.runner.stack_up


def _job_table(job: Any) -> Any:
    """A --json command's rows, or None to show its text."""
    if not job.data:
        return None
    try:
        rows = json.loads(job.data)
    except ValueError:
        return None
    return rows if isinstance(rows, list) and all(isinstance(r, dict) for r in rows) else None
