package browsertest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/portvakt/portvakt/internal/testwait"
)

// DefaultTimeout is how long a Page helper waits before it fails the test.
const DefaultTimeout = 10 * time.Second

// pollInterval is how often helpers re-check a condition while waiting.
const pollInterval = 25 * time.Millisecond

// A PageOption configures a Page opened by NewPage.
type PageOption func(*pageConfig)

type pageConfig struct {
	acceptLanguage string
	width, height  int
	timeout        time.Duration
}

// AcceptLanguage sets the page's preferred languages from lang, a value
// like an Accept-Language header ("nb-NO,nb;q=0.9"). They show up in
// navigator.language and navigator.languages and in the Accept-Language
// header, which Chromium writes itself, as a real browser does: the tags
// ordered by q-value, and q-values 0.9, 0.8, … after the first. So
// AcceptLanguage("nb-NO,nb") and AcceptLanguage("nb-NO,nb;q=0.9") both send
// "nb-NO,nb;q=0.9". Without this option a page sends "en-US,en;q=0.9".
func AcceptLanguage(lang string) PageOption {
	return func(c *pageConfig) { c.acceptLanguage = lang }
}

// languages turns an Accept-Language value into the comma-separated list of
// language tags, by descending q-value and without q-values, that
// Emulation.setUserAgentOverride wants.
func languages(header string) string {
	type tagQ struct {
		tag string
		q   float64
	}
	var tags []tagQ
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		if tag == "" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		tags = append(tags, tagQ{tag, q})
	}
	slices.SortStableFunc(tags, func(a, b tagQ) int { return cmp.Compare(b.q, a.q) })
	var list []string
	for _, t := range tags {
		list = append(list, t.tag)
	}
	return strings.Join(list, ",")
}

// Viewport sets the page's viewport in CSS pixels, for example 390×844 for a
// phone. Without it the viewport is what the 1280×900 window leaves, about
// 1280×757.
func Viewport(width, height int) PageOption {
	return func(c *pageConfig) { c.width, c.height = width, height }
}

// Timeout sets how long each helper waits before it fails the test. The
// default is DefaultTimeout. Both are scaled by PORTVAKT_TEST_TIMEOUT_SCALE
// (internal/testwait), so that a loaded machine gets as many polls in as
// an idle one.
func Timeout(d time.Duration) PageOption {
	return func(c *pageConfig) { c.timeout = d }
}

// SetTimeout changes how long the page's helpers wait from now on (d
// scaled by PORTVAKT_TEST_TIMEOUT_SCALE). A test that expects a helper to
// fail can shorten the wait for that one call, and keep the default for
// the steps that must succeed before and after it.
func (p *Page) SetTimeout(d time.Duration) {
	p.timeout = testwait.D(d)
}

// A Page is one tab in its own browser context: it shares no cookies, storage
// or cache with other pages. Its helpers fail the test, after saving a
// screenshot and the HTML, instead of returning errors. A Page belongs to the
// goroutine of the test that opened it.
type Page struct {
	tb      testing.TB
	b       *Browser
	name    string // "page1", used in artifact names
	ctx     context.Context
	cancel  context.CancelFunc
	bctx    cdp.BrowserContextID
	timeout time.Duration
	console *logRing

	fails int  // helper failures so far
	saved bool // artifacts were saved and nothing happened since
}

// NewPage opens a page in a new, isolated browser context, as if in a second
// browser. The page is closed by tb's cleanup; if tb failed by then, a
// screenshot and the HTML of the page are saved first.
func (b *Browser) NewPage(tb testing.TB, opts ...PageOption) *Page {
	tb.Helper()
	cfg := pageConfig{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.timeout = testwait.D(cfg.timeout)

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		tb.Fatalf("browsertest: NewPage on a closed browser")
		return nil
	}
	b.nextID++
	id := b.nextID
	b.mu.Unlock()

	// chromedp.WithNewBrowserContext cannot be used: chromium refuses to
	// open a tab of a new browser context ("no browser is open") unless it
	// gets a window of its own.
	bctx, tid, err := b.newWindow()
	if err != nil {
		tb.Fatalf("browsertest: NewPage: %v", err)
		return nil
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(tid))
	p := &Page{
		tb:      tb,
		b:       b,
		name:    fmt.Sprintf("page%d", id),
		ctx:     ctx,
		cancel:  cancel,
		bctx:    bctx,
		timeout: cfg.timeout,
		console: newLogRing(200),
	}
	chromedp.ListenTarget(ctx, p.onEvent)

	// The first Run creates the tab and must get the page's long-lived
	// context, so bound it with a watchdog instead of a deadline.
	setup := []chromedp.Action{chromedp.ActionFunc(func(ctx context.Context) error {
		if cfg.acceptLanguage == "" {
			return nil
		}
		ua, err := userAgent(ctx)
		if err != nil {
			return err
		}
		return emulation.SetUserAgentOverride(ua).WithAcceptLanguage(languages(cfg.acceptLanguage)).Do(ctx)
	})}
	if cfg.width > 0 && cfg.height > 0 {
		setup = append(setup, chromedp.EmulateViewport(int64(cfg.width), int64(cfg.height)))
	}
	watchdog := time.AfterFunc(max(cfg.timeout, testwait.D(startTimeout)), cancel)
	err = chromedp.Run(ctx, setup...)
	if !watchdog.Stop() {
		err = fmt.Errorf("no answer within %v", max(cfg.timeout, testwait.D(startTimeout)))
	}
	if err != nil {
		p.close()
		tb.Fatalf("browsertest: NewPage: %v", err)
		return nil
	}

	b.mu.Lock()
	b.pages[p] = struct{}{}
	b.mu.Unlock()
	tb.Cleanup(p.cleanup)
	return p
}

// userAgent returns chromium's own User-Agent, which
// Emulation.setUserAgentOverride needs along with the language.
func userAgent(ctx context.Context) (string, error) {
	var ua string
	err := chromedp.Evaluate(`navigator.userAgent`, &ua).Do(ctx)
	return ua, err
}

// onEvent records the page's console output and uncaught exceptions, which
// are saved with the other artifacts when a test fails.
func (p *Page) onEvent(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		args := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			args = append(args, remoteString(a))
		}
		p.console.add(fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg = d.Exception.Description
		}
		p.console.add(fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *page.EventJavascriptDialogOpening:
		// An open dialog blocks the page's scripts, so helpers time out.
		p.console.add(fmt.Sprintf("%s dialog opened, blocking the page: %q", ev.Type, ev.Message))
	}
}

func remoteString(o *runtime.RemoteObject) string {
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// cleanup saves artifacts if the test failed, then closes the page.
func (p *Page) cleanup() {
	p.b.mu.Lock()
	_, open := p.b.pages[p]
	delete(p.b.pages, p)
	p.b.mu.Unlock()
	if !open {
		return
	}
	if p.tb.Failed() && !p.saved {
		p.saveArtifacts("at-failure")
	}
	p.close()
}

// close closes the page's tab and disposes of its browser context.
func (p *Page) close() {
	p.cancel() // detaches from the tab and closes it
	ctx, cancel := context.WithTimeout(p.b.ctx, testwait.D(closeTimeout))
	defer cancel()
	err := target.DisposeBrowserContext(p.bctx).Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
	if err != nil && p.b.ctx.Err() == nil {
		p.b.logs.printf("disposing of the browser context of %s: %v", p.name, err)
	}
}

// newWindow creates a browser context with one window and returns the
// context and the window's tab.
func (b *Browser) newWindow() (cdp.BrowserContextID, target.ID, error) {
	ctx, cancel := context.WithTimeout(b.ctx, testwait.D(startTimeout))
	defer cancel()
	ctx = cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser)
	bctx, err := target.CreateBrowserContext().WithDisposeOnDetach(true).Do(ctx)
	if err != nil {
		return "", "", fmt.Errorf("creating a browser context: %w", err)
	}
	tid, err := target.CreateTarget("about:blank").
		WithBrowserContextID(bctx).
		WithNewWindow(true).
		WithWidth(windowWidth).
		WithHeight(windowHeight).
		Do(ctx)
	if err != nil {
		target.DisposeBrowserContext(bctx).Do(ctx)
		return "", "", fmt.Errorf("opening a window: %w", err)
	}
	return bctx, tid, nil
}

// Context returns the page's chromedp context, for running raw chromedp
// actions such as the WebAuthn virtual authenticator:
//
//	ctx, cancel := context.WithTimeout(p.Context(), 10*time.Second)
//	defer cancel()
//	err := chromedp.Run(ctx, webauthn.Enable())
//
// The context lives until the page is closed. Never cancel it; derive a
// context with a deadline instead.
func (p *Page) Context() context.Context { return p.ctx }

// run runs actions with the page's per-action timeout.
func (p *Page) run(actions ...chromedp.Action) error {
	p.saved = false
	timedOut := fmt.Errorf("timed out after %v", p.timeout)
	ctx, cancel := context.WithTimeoutCause(p.ctx, p.timeout, timedOut)
	defer cancel()
	err := chromedp.Run(ctx, actions...)
	if errors.Is(err, context.DeadlineExceeded) && context.Cause(ctx) == timedOut {
		if err == context.DeadlineExceeded {
			err = timedOut
		} else {
			err = fmt.Errorf("%w: %w", timedOut, err)
		}
	}
	return err
}

// fail saves artifacts and fails the test with a message naming the call.
func (p *Page) fail(call string, err error) {
	p.tb.Helper()
	p.fails++
	p.saveArtifacts(call)
	p.tb.Fatalf("browsertest: %s on %s: %v", call, p.currentURL(), err)
}

// failSel is fail for a helper about a selector; it says how many elements
// match the selector now, which tells "missing" from "hidden" or "disabled".
func (p *Page) failSel(call, sel string, err error) {
	p.tb.Helper()
	if n, cerr := p.count(sel); cerr != nil {
		err = fmt.Errorf("%w (selector: %v)", err, cerr)
	} else {
		err = fmt.Errorf("%w (%d elements match %q)", err, n, sel)
	}
	p.fail(call, err)
}

// count returns how many elements match sel, without waiting.
func (p *Page) count(sel string) (int, error) {
	ctx, cancel := context.WithTimeout(p.ctx, testwait.D(artifactTimeout))
	defer cancel()
	var n int
	err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll(`+jsString(sel)+`).length`, &n))
	return n, err
}

// currentURL returns the page's URL for failure messages.
func (p *Page) currentURL() string {
	ctx, cancel := context.WithTimeout(p.ctx, testwait.D(artifactTimeout))
	defer cancel()
	var u string
	if err := chromedp.Run(ctx, chromedp.Location(&u)); err != nil {
		return "(unknown URL)"
	}
	return u
}

// Open navigates to url and waits until the document is completely loaded.
func (p *Page) Open(url string) {
	p.tb.Helper()
	if err := p.run(chromedp.Navigate(url), waitLoaded()); err != nil {
		p.fail(fmt.Sprintf("Open(%q)", url), err)
	}
}

// Click clicks the centre of the element matching the CSS selector with the
// mouse, once the element is visible, enabled, not moving and not covered by
// another element; it scrolls the element into view first. If the click
// loads a new document, use Submit instead, so the next helper does not see
// the old one.
func (p *Page) Click(selector string) {
	p.tb.Helper()
	if err := p.run(click(selector)); err != nil {
		p.fail(fmt.Sprintf("Click(%q)", selector), err)
	}
}

// Submit clicks the element matching the CSS selector, as Click does, and
// waits until a new document is completely loaded. The element is usually a
// submit button; if it is a form, the form is submitted as if by its default
// button.
func (p *Page) Submit(selector string) {
	p.tb.Helper()
	call := fmt.Sprintf("Submit(%q)", selector)
	before, err := p.loaderID()
	if err != nil {
		p.fail(call, err)
		return
	}
	var isForm bool
	if err := p.run(
		chromedp.WaitReady(selector, query...),
		chromedp.Evaluate(`document.querySelector(`+jsString(selector)+`).tagName === "FORM"`, &isForm),
	); err != nil {
		p.failSel(call, selector, err)
		return
	}
	act := click(selector)
	if isForm {
		act = chromedp.Evaluate(`document.querySelector(`+jsString(selector)+`).requestSubmit()`, nil)
	}
	if err := p.run(act); err != nil {
		p.fail(call, err)
		return
	}
	if err := p.run(waitNewDocument(before), waitLoaded()); err != nil {
		p.fail(call, fmt.Errorf("no new document loaded: %w", err))
	}
}

// clickJS scrolls the element matching the selector into view and reports
// whether a click at its centre would reach it.
const clickJS = `((sel) => {
	const e = document.querySelector(sel);
	if (!e) return {state: "missing"};
	let r = e.getBoundingClientRect();
	if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
		e.scrollIntoView({block: "center", inline: "center", behavior: "instant"});
		r = e.getBoundingClientRect();
	}
	if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === "hidden") return {state: "hidden"};
	if (e.disabled || e.closest("fieldset:disabled")) return {state: "disabled"};
	const x = r.left + r.width / 2, y = r.top + r.height / 2;
	const hit = document.elementFromPoint(x, y);
	if (!hit || !(hit === e || e.contains(hit) || (e.labels && [...e.labels].some(l => l.contains(hit))))) {
		const d = hit ? "<" + hit.tagName.toLowerCase() + (hit.id ? "#" + hit.id : "") +
			(typeof hit.className === "string" && hit.className ? "." + hit.className.trim().split(/\s+/).join(".") : "") + ">" : "nothing";
		return {state: "covered", by: d};
	}
	return {state: "ok", x: x, y: y, w: r.width, h: r.height};
})`

type clickTarget struct {
	State string  `json:"state"`
	By    string  `json:"by"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	W     float64 `json:"w"`
	H     float64 `json:"h"`
}

// click waits until the element matching selector can be clicked and has
// stayed in place for one poll, then clicks its centre.
func click(selector string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var t, prev clickTarget // the last two answers
		err := poll(ctx, func() (bool, error) {
			var now clickTarget
			if err := chromedp.Evaluate(clickJS+`(`+jsString(selector)+`)`, &now).Do(ctx); err != nil {
				return false, err
			}
			prev, t = t, now
			return t.State == "ok" && t == prev, nil
		})
		if err != nil && t.State == "" {
			// The budget ran out before the page answered once (a loaded
			// machine): ask once more, outside it, so the failure still
			// says why the element cannot be clicked.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), testwait.D(artifactTimeout))
			_ = chromedp.Evaluate(clickJS+`(`+jsString(selector)+`)`, &t).Do(dctx)
			cancel()
		}
		if err != nil {
			switch t.State {
			case "missing":
				return fmt.Errorf("%w: no element matches %q", err, selector)
			case "hidden":
				return fmt.Errorf("%w: the element is not visible", err)
			case "disabled":
				return fmt.Errorf("%w: the element is disabled", err)
			case "covered":
				return fmt.Errorf("%w: the element is covered by %s", err, t.By)
			case "ok":
				return fmt.Errorf("%w: the element keeps moving", err)
			}
			return err
		}
		if err := chromedp.MouseEvent(input.MouseMoved, t.X, t.Y).Do(ctx); err != nil {
			return err
		}
		return chromedp.MouseClickXY(t.X, t.Y).Do(ctx)
	})
}

// AwaitNavigation runs do, which should make the page load a new document
// (by pressing Enter, say), and waits until that document is completely
// loaded.
func (p *Page) AwaitNavigation(do func()) {
	p.tb.Helper()
	before, err := p.loaderID()
	if err != nil {
		p.fail("AwaitNavigation", err)
		return
	}
	fails := p.fails
	do()
	if p.fails != fails {
		return
	}
	if err := p.run(waitNewDocument(before), waitLoaded()); err != nil {
		p.fail("AwaitNavigation", fmt.Errorf("no new document loaded: %w", err))
	}
}

// loaderID identifies the document currently in the page's main frame.
func (p *Page) loaderID() (cdp.LoaderID, error) {
	var id cdp.LoaderID
	err := p.run(chromedp.ActionFunc(func(ctx context.Context) error {
		tree, err := page.GetFrameTree().Do(ctx)
		if err == nil {
			id = tree.Frame.LoaderID
		}
		return err
	}))
	return id, err
}

// waitNewDocument waits until the main frame holds a document other than
// the one loaded by before.
func waitNewDocument(before cdp.LoaderID) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		return poll(ctx, func() (bool, error) {
			tree, err := page.GetFrameTree().Do(ctx)
			if err != nil {
				return false, err
			}
			return tree.Frame.LoaderID != before, nil
		})
	})
}

// waitLoaded waits until document.readyState is "complete".
func waitLoaded() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var state string
		err := poll(ctx, func() (bool, error) {
			err := chromedp.Evaluate(`document.readyState`, &state).Do(ctx)
			return err == nil && state == "complete", err
		})
		if err != nil && state != "" {
			err = fmt.Errorf("%w (document.readyState is %q)", err, state)
		}
		return err
	})
}

// poll calls cond until it reports true or ctx is done. Errors from cond are
// retried, since they happen while a document is being replaced; the last
// one is reported if ctx ends first.
func poll(ctx context.Context, cond func() (bool, error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				return fmt.Errorf("%w (last error: %v)", context.Cause(ctx), err)
			}
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

// query selects the first element matching a CSS selector, re-checking at a
// pace that leaves the shared CPUs some room.
var query = []chromedp.QueryOption{chromedp.ByQuery, chromedp.RetryInterval(pollInterval)}

// typedInputs are the input types whose value Fill types key by key; other
// types (date, color, range, …) get their value set directly.
var typedInputs = map[string]bool{
	"": true, "text": true, "email": true, "password": true, "search": true,
	"tel": true, "url": true, "number": true,
}

// Fill replaces the value of the input, textarea or select matching the CSS
// selector. Text fields are cleared and then typed into key by key, which
// fires the same keyboard and input events as a user; a select gets the
// option whose value or label is value; other inputs get their value set and
// an input and a change event. Fill fails if the field does not end up
// holding value, for example because it is disabled or has a maxlength.
func (p *Page) Fill(selector, value string) {
	p.tb.Helper()
	call := fmt.Sprintf("Fill(%q, %q)", selector, value)
	var kind struct {
		Tag  string `json:"tag"`
		Type string `json:"type"`
	}
	sel := jsString(selector)
	if err := p.run(
		chromedp.WaitVisible(selector, query...),
		chromedp.Evaluate(`(() => { const e = document.querySelector(`+sel+`);
			return {tag: e.tagName, type: (e.getAttribute("type") || "").toLowerCase()}; })()`, &kind),
	); err != nil {
		p.failSel(call, selector, err)
		return
	}

	var err error
	switch {
	case kind.Tag == "TEXTAREA" || kind.Tag == "INPUT" && typedInputs[kind.Type]:
		err = p.run(
			chromedp.Evaluate(`(() => { const e = document.querySelector(`+sel+`);
				e.focus(); e.value = "";
				e.dispatchEvent(new Event("input", {bubbles: true})); })()`, nil),
			chromedp.SendKeys(selector, value, query...),
		)
	case kind.Tag == "SELECT":
		var found bool
		err = p.run(chromedp.Evaluate(`(() => { const e = document.querySelector(`+sel+`), v = `+jsString(value)+`;
			const o = [...e.options].find(o => o.value === v) || [...e.options].find(o => o.label.trim() === v);
			if (!o) return false;
			e.focus(); e.value = o.value;
			e.dispatchEvent(new Event("input", {bubbles: true}));
			e.dispatchEvent(new Event("change", {bubbles: true}));
			return true; })()`, &found))
		if err == nil && !found {
			p.fail(call, errors.New("the select has no option with that value or label"))
		} else if err != nil {
			p.failSel(call, selector, err)
		}
		return // the value may have been a label
	case kind.Tag == "INPUT":
		err = p.run(chromedp.Evaluate(`(() => { const e = document.querySelector(`+sel+`);
			e.focus(); e.value = `+jsString(value)+`;
			e.dispatchEvent(new Event("input", {bubbles: true}));
			e.dispatchEvent(new Event("change", {bubbles: true})); })()`, nil))
	default:
		p.fail(call, fmt.Errorf("the element is a %s, not an input, textarea or select", strings.ToLower(kind.Tag)))
		return
	}
	if err != nil {
		p.failSel(call, selector, err)
		return
	}
	var got string
	if err := p.run(chromedp.Evaluate(`document.querySelector(`+sel+`).value`, &got)); err != nil {
		p.failSel(call, selector, err)
		return
	}
	if got != value {
		p.fail(call, fmt.Errorf("the field holds %q afterwards", got))
	}
}

// Text waits until the element matching the CSS selector is visible and
// returns its rendered text (innerText), trimmed.
func (p *Page) Text(selector string) string {
	p.tb.Helper()
	var s string
	if err := p.run(chromedp.Text(selector, &s, append(query, chromedp.NodeVisible)...)); err != nil {
		p.failSel(fmt.Sprintf("Text(%q)", selector), selector, err)
		return ""
	}
	return strings.TrimSpace(s)
}

// Value waits until an element matches the CSS selector and returns its
// value property. The element may be hidden, like an input of type hidden.
func (p *Page) Value(selector string) string {
	p.tb.Helper()
	var s string
	if err := p.run(chromedp.Value(selector, &s, query...)); err != nil {
		p.failSel(fmt.Sprintf("Value(%q)", selector), selector, err)
		return ""
	}
	return s
}

// Attr waits until an element matches the CSS selector and returns its
// attribute name, reporting whether the attribute is present.
func (p *Page) Attr(selector, name string) (string, bool) {
	p.tb.Helper()
	var (
		v  string
		ok bool
	)
	if err := p.run(chromedp.AttributeValue(selector, name, &v, &ok, query...)); err != nil {
		p.failSel(fmt.Sprintf("Attr(%q, %q)", selector, name), selector, err)
		return "", false
	}
	return v, ok
}

// Exists reports whether an element matches the CSS selector right now,
// without waiting.
func (p *Page) Exists(selector string) bool {
	p.tb.Helper()
	var ok bool
	if err := p.run(chromedp.Evaluate(`document.querySelector(`+jsString(selector)+`) !== null`, &ok)); err != nil {
		p.fail(fmt.Sprintf("Exists(%q)", selector), err)
		return false
	}
	return ok
}

// WaitVisible waits until the element matching the CSS selector is visible.
func (p *Page) WaitVisible(selector string) {
	p.tb.Helper()
	if err := p.run(chromedp.WaitVisible(selector, query...)); err != nil {
		p.failSel(fmt.Sprintf("WaitVisible(%q)", selector), selector, err)
	}
}

// WaitText waits until the rendered text of the element matching the CSS
// selector contains substring.
func (p *Page) WaitText(selector, substring string) {
	p.tb.Helper()
	var text *string
	err := p.run(chromedp.ActionFunc(func(ctx context.Context) error {
		return poll(ctx, func() (bool, error) {
			err := chromedp.Evaluate(`(() => { const e = document.querySelector(`+jsString(selector)+`);
				return e ? e.innerText : null; })()`, &text).Do(ctx)
			return err == nil && text != nil && strings.Contains(*text, substring), err
		})
	}))
	if err != nil {
		call := fmt.Sprintf("WaitText(%q, %q)", selector, substring)
		if text == nil {
			p.failSel(call, selector, err)
			return
		}
		p.fail(call, fmt.Errorf("%w; the text is %q", err, strings.TrimSpace(*text)))
	}
}

// URL returns the page's current URL.
func (p *Page) URL() string {
	p.tb.Helper()
	var u string
	if err := p.run(chromedp.Location(&u)); err != nil {
		p.fail("URL()", err)
	}
	return u
}

// Title returns the document's title.
func (p *Page) Title() string {
	p.tb.Helper()
	var s string
	if err := p.run(chromedp.Title(&s)); err != nil {
		p.fail("Title()", err)
	}
	return s
}

// HTML returns the document's current markup, as changed by scripts.
func (p *Page) HTML() string {
	p.tb.Helper()
	s, err := p.html(p.ctx, p.timeout)
	if err != nil {
		p.fail("HTML()", err)
	}
	return s
}

// html reads the markup within d.
func (p *Page) html(parent context.Context, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(parent, d)
	defer cancel()
	var s string
	err := chromedp.Run(ctx, chromedp.Evaluate(
		`(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + "\n" : "") + document.documentElement.outerHTML`,
		&s))
	return s, err
}

// Screenshot saves a PNG of the whole page, not just the viewport, to path.
func (p *Page) Screenshot(path string) {
	p.tb.Helper()
	png, err := p.screenshot(p.ctx, p.timeout)
	if err == nil {
		err = writeFile(path, png)
	}
	if err != nil {
		p.fail(fmt.Sprintf("Screenshot(%q)", path), err)
	}
}

// screenshot takes the picture within d.
func (p *Page) screenshot(parent context.Context, d time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(parent, d)
	defer cancel()
	var png []byte
	err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100))
	return png, err
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// Cookies returns every cookie in the page's browser context, for all sites
// and paths, including HttpOnly ones.
func (p *Page) Cookies() []*network.Cookie {
	p.tb.Helper()
	var cookies []*network.Cookie
	err := p.run(chromedp.ActionFunc(func(ctx context.Context) error {
		c := chromedp.FromContext(ctx)
		var err error
		cookies, err = storage.GetCookies().
			WithBrowserContextID(p.bctx).
			Do(cdp.WithExecutor(ctx, c.Browser))
		return err
	}))
	if err != nil {
		p.fail("Cookies()", err)
	}
	return cookies
}

// Eval evaluates the JavaScript expression js in the page, waits for it if it
// is a promise, and stores its JSON-encoded result in out, which may be nil.
// A thrown exception fails the test.
func (p *Page) Eval(js string, out any) {
	p.tb.Helper()
	err := p.run(chromedp.Evaluate(js, out, func(ep *runtime.EvaluateParams) *runtime.EvaluateParams {
		return ep.WithAwaitPromise(true)
	}))
	if err != nil {
		p.fail(fmt.Sprintf("Eval(%q)", js), err)
	}
}

// Focused returns the id of the focused element (document.activeElement), or
// "" if the focused element has no id or nothing is focused.
func (p *Page) Focused() string {
	p.tb.Helper()
	var id string
	if err := p.run(chromedp.Evaluate(`(document.activeElement && document.activeElement.id) || ""`, &id)); err != nil {
		p.fail("Focused()", err)
	}
	return id
}

// PressTab presses the Tab key, moving focus to the next focusable element.
func (p *Page) PressTab() {
	p.tb.Helper()
	p.press("PressTab()", kb.Tab)
}

// PressShiftTab presses Shift+Tab, moving focus to the previous focusable
// element.
func (p *Page) PressShiftTab() {
	p.tb.Helper()
	p.press("PressShiftTab()", kb.Tab, chromedp.KeyModifiers(input.ModifierShift))
}

// PressKey sends keys to the focused element: either text, typed rune by
// rune, or a key from github.com/chromedp/chromedp/kb such as kb.Enter,
// kb.Escape or kb.ArrowDown. If the key loads a new document, wrap the call
// in AwaitNavigation.
func (p *Page) PressKey(keys string) {
	p.tb.Helper()
	p.press(fmt.Sprintf("PressKey(%q)", keys), keys)
}

func (p *Page) press(call, keys string, opts ...chromedp.KeyOption) {
	p.tb.Helper()
	if err := p.run(chromedp.KeyEvent(keys, opts...)); err != nil {
		p.fail(call, err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
