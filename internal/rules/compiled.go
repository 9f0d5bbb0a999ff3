package rules

import "bytes"

// compiledRules are Wazuh's <compiled_rule> functions: checks written in code rather
// than in the rule language. Only those the stock ruleset uses exist.
var compiledRules = map[string]func(d *decoded) bool{
	"is_simple_http_request": isSimpleHTTPRequest,
	"is_valid_crawler":       isValidCrawler,
}

// isSimpleHTTPRequest holds for requests without a query string: "/" or any URL
// without '?'.
func isSimpleHTTPRequest(d *decoded) bool {
	url, ok := d.getStatic(FURL)
	if !ok {
		return false
	}
	return string(url) == "/" || bytes.IndexByte(url, '?') < 0
}

// crawlerPrefixes are the address blocks of the big search engines' crawlers that
// is_valid_crawler accepts, tested on the start of the log (web access logs start
// with the client address).
var crawlerPrefixes = [][]byte{
	[]byte("66.249."), []byte("72.14."), []byte("209.85."), []byte("65.55."),
	[]byte("207.46."), []byte("74.6."), []byte("72.30."), []byte("67.195."),
}

func isValidCrawler(d *decoded) bool {
	for _, p := range crawlerPrefixes {
		if bytes.HasPrefix(d.log, p) {
			return true
		}
	}
	return false
}
