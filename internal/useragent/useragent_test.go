package useragent

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		ua   string
		want Agent
	}{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", Agent{"Firefox", "140", "Linux", false}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36", Agent{"Chrome", "141", "Windows", false}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 Edg/141.0.3537.57", Agent{"Edge", "141", "Windows", false}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15", Agent{"Safari", "18", "macOS", false}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1", Agent{"Safari", "18", "iOS", true}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/141.0.7390.41 Mobile/15E148 Safari/604.1", Agent{"Chrome", "141", "iOS", true}},
		{"Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/140.0 Mobile/15E148 Safari/605.1.15", Agent{"Firefox", "140", "iPadOS", true}},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36", Agent{"Samsung Internet", "28", "Android", true}},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36", Agent{"Chrome", "141", "Android", true}},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.8078.79 Safari/537.36", Agent{"Chrome", "156", "Linux", false}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 OPR/123.0.0.0", Agent{"Opera", "123", "Windows", false}},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36", Agent{"Chrome", "141", "ChromeOS", false}},
		{"Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", Agent{"Internet Explorer", "", "Windows", false}},
		{"curl/8.5.0", Agent{"curl", "8", "", false}},
		{"Go-http-client/1.1", Agent{"Go", "1", "", false}},
		{"", Agent{}},
		{"something else entirely", Agent{}},
		// "Version/" without Safari is not Safari.
		{"MyApp Version/3 (Linux)", Agent{"", "", "Linux", false}},
	} {
		if got := Parse(tc.ua); got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.ua, got, tc.want)
		}
	}
}

func TestString(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0": "Firefox 140 on Linux",
		"curl/8.5.0":               "curl 8",
		"Mozilla/5.0 (Windows NT)": "Windows",
		"":                         "",
	} {
		if got := Parse(ua).String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", ua, got, want)
		}
	}
}

// TestBounded: a huge header is read only up to MaxLen, and a version
// number only up to six digits.
func TestBounded(t *testing.T) {
	long := strings.Repeat("x", 10*MaxLen) + " Firefox/140.0"
	if got := Parse(long); got.Browser != "" {
		t.Errorf("Parse(token after MaxLen) = %+v, want nothing", got)
	}
	if got := Parse("Firefox/" + strings.Repeat("9", 1000)); got.Version != "999999" {
		t.Errorf("version of a long number = %q, want six digits", got.Version)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
	f.Add("Version/")
	f.Fuzz(func(t *testing.T, ua string) {
		a := Parse(ua)
		if len(a.Version) > 6 {
			t.Errorf("version %q longer than 6", a.Version)
		}
	})
}
