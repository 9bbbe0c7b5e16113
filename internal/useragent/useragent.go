// Package useragent names the browser and operating system in a
// User-Agent header, for the "Where you're signed in" list and the
// new-device mail: "Firefox 140", "Windows". It is a small table of
// substrings, not a full parser: it knows the browsers and systems people
// use, says "" for what it does not know, and never fails. The work is
// bounded: only the first MaxLen bytes of a header are read.
package useragent

import "strings"

// MaxLen is how much of a User-Agent is read.
const MaxLen = 512

// Agent is what a User-Agent says.
type Agent struct {
	// Browser is the browser's name ("Firefox", "Chrome", "Edge",
	// "Safari", …), or "" when it is not known.
	Browser string
	// Version is the browser's major version ("140"), or "".
	Version string
	// OS is the operating system ("Windows", "macOS", "iOS", "Android",
	// "Linux", …), or "".
	OS string
	// Mobile says the browser says it is on a phone.
	Mobile bool
}

// browsers are tried in order: the first whose token appears wins. Order
// matters, because most browsers also name the ones they descend from
// (Edge says "Chrome/… Safari/…", Chrome says "Safari/…").
var browsers = []struct{ token, name string }{
	{"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edg/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"OPiOS/", "Opera"}, {"Vivaldi/", "Vivaldi"}, {"YaBrowser/", "Yandex Browser"},
	{"SamsungBrowser/", "Samsung Internet"}, {"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"}, {"HeadlessChrome/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"Trident/", "Internet Explorer"}, {"MSIE ", "Internet Explorer"},
	{"curl/", "curl"}, {"Wget/", "Wget"}, {"python-requests/", "Python"}, {"Go-http-client/", "Go"}, {"okhttp/", "OkHttp"},
	// Safari last of the engines: everything WebKit says "Safari/".
	{"Version/", "Safari"},
}

// systems are tried in order, for the same reason (Android says "Linux",
// iOS says "like Mac OS X").
var systems = []struct{ token, name string }{
	{"Windows Phone", "Windows Phone"}, {"Windows", "Windows"},
	{"iPhone", "iOS"}, {"iPod", "iOS"}, {"iPad", "iPadOS"},
	{"Android", "Android"}, {"CrOS", "ChromeOS"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Ubuntu", "Ubuntu"}, {"Fedora", "Fedora"}, {"Linux", "Linux"}, {"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
}

// Parse reads a User-Agent header.
func Parse(ua string) Agent {
	if len(ua) > MaxLen {
		ua = ua[:MaxLen]
	}
	var a Agent
	for _, b := range browsers {
		i := strings.Index(ua, b.token)
		if i < 0 {
			continue
		}
		if b.token == "Version/" && !strings.Contains(ua, "Safari/") {
			continue
		}
		a.Browser = b.name
		a.Version = major(ua[i+len(b.token):])
		if b.token == "Trident/" {
			a.Version = "" // Trident's number is the engine's, not IE's
		}
		break
	}
	for _, s := range systems {
		if strings.Contains(ua, s.token) {
			a.OS = s.name
			break
		}
	}
	a.Mobile = strings.Contains(ua, "Mobile") || a.OS == "iOS" || a.OS == "Windows Phone"
	return a
}

// major returns the leading digits of s ("140.0.1" → "140"), at most 6.
func major(s string) string {
	n := 0
	for n < len(s) && n < 6 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return s[:n]
}

// Name is the browser with its major version: "Firefox 140", "Safari",
// or "" when the browser is not known.
func (a Agent) Name() string {
	if a.Browser == "" || a.Version == "" {
		return a.Browser
	}
	return a.Browser + " " + a.Version
}

// String describes the agent in a few words for people: "Firefox 140 on
// Linux", "Chrome on Android", "Windows", or "" when nothing is known.
// The word "on" is English; pages build their own sentence from Name and
// OS.
func (a Agent) String() string {
	switch n := a.Name(); {
	case n != "" && a.OS != "":
		return n + " on " + a.OS
	case n != "":
		return n
	default:
		return a.OS
	}
}
