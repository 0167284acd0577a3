package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
)

// describe turns a domain error into one readable line for the terminal.
func describe(err error) error {
	var de *errs.Error
	if !errors.As(err, &de) {
		return err
	}
	msg := i18n.T(i18n.EN, de.Key, append([]any(nil), de.Args...)...)
	if len(de.Fields) > 0 {
		var parts []string
		for f, p := range de.Fields {
			parts = append(parts, f+" "+i18n.T(i18n.EN, p.Key, append([]any(nil), p.Args...)...))
		}
		sort.Strings(parts)
		msg += ": " + strings.Join(parts, "; ")
	}
	return fmt.Errorf("%s", msg)
}
