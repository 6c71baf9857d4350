package mapping

import (
	"fmt"
	"regexp"
	"sync"
)

// MaxPatternLen bounds an administrator's regular expression. RE2 runs in
// linear time whatever the pattern, but a huge pattern still costs memory
// to compile and is never what a field mapping needs.
const MaxPatternLen = 1024

// The compiled patterns, shared by every Apply and Match: a process applies
// the same few patterns to every entity it syncs. Bounded, because patterns
// come from configuration that may be edited many times over an agent's
// life; past the bound patterns are compiled per call, still correct.
var (
	regexMu    sync.Mutex
	regexCache = map[string]*regexp.Regexp{}
)

const regexCacheMax = 512

// compileRegex compiles pattern (RE2 syntax) within MaxPatternLen.
func compileRegex(pattern string) (*regexp.Regexp, error) {
	if len(pattern) > MaxPatternLen {
		return nil, fmt.Errorf("pattern is longer than %d bytes", MaxPatternLen)
	}
	regexMu.Lock()
	re, ok := regexCache[pattern]
	regexMu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("compile pattern: %w", err)
	}
	regexMu.Lock()
	if len(regexCache) < regexCacheMax {
		regexCache[pattern] = re
	}
	regexMu.Unlock()
	return re, nil
}
