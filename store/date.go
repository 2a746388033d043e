package store

// parseDate returns the milliseconds since the epoch that s names, read as
// time.Parse reads it with layout time.RFC3339Nano or, failing that,
// time.DateOnly; ok is false where both fail. It accepts exactly what they
// do (FuzzParseDate holds it to them), without linking the time package's
// layout-driven parser into the browser client:
//
//	YYYY-MM-DD                                    midnight UTC
//	YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]           zone required
//
// The hour may have one digit; the fraction follows "." or "," and has any
// number of digits, of which nine count; a zone offset may be up to 24:60.
// Letters are upper case.
func parseDate(s string) (ms int64, ok bool) {
	if len(s) < 10 {
		return 0, false
	}
	year, month, day := digitsAt(s, 0, 4), digitsAt(s, 5, 2), digitsAt(s, 8, 2)
	if year < 0 || s[4] != '-' || s[7] != '-' || month < 1 || 12 < month || day < 1 || day > daysIn(month, year) {
		return 0, false
	}
	secs := daysSinceEpoch(year, month, day) * 86400
	if len(s) == 10 {
		return secs * 1000, true
	}
	if s[10] != 'T' {
		return 0, false
	}
	i := 11
	hour := digitsAt(s, i, 2)
	if hour >= 0 {
		i += 2
	} else if hour = digitsAt(s, i, 1); hour >= 0 {
		i++
	}
	if hour < 0 || 23 < hour || i >= len(s) || s[i] != ':' {
		return 0, false
	}
	min := digitsAt(s, i+1, 2)
	if min < 0 || 59 < min || i+3 >= len(s) || s[i+3] != ':' {
		return 0, false
	}
	sec := digitsAt(s, i+4, 2)
	if sec < 0 || 59 < sec {
		return 0, false
	}
	i += 6
	secs += int64(hour*3600 + min*60 + sec)
	nsec := 0
	if i+1 < len(s) && (s[i] == '.' || s[i] == ',') && '0' <= s[i+1] && s[i+1] <= '9' {
		n := 0
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			if n < 9 {
				nsec = nsec*10 + int(s[i]-'0')
				n++
			}
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	switch {
	case i < len(s) && s[i] == 'Z':
		i++
	case i+6 <= len(s) && s[i+3] == ':' && (s[i] == '+' || s[i] == '-'):
		hr, mm := digitsAt(s, i+1, 2), digitsAt(s, i+4, 2)
		if hr < 0 || 24 < hr || mm < 0 || 60 < mm {
			return 0, false
		}
		off := int64(hr*3600 + mm*60)
		if s[i] == '-' {
			off = -off
		}
		secs -= off
		i += 6
	default:
		return 0, false
	}
	if i != len(s) {
		return 0, false
	}
	return secs*1000 + int64(nsec/1e6), true
}

// daysIn returns the number of days in month of year.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch returns the days from 1970-01-01 to the given day of the
// proleptic Gregorian calendar, for years 0 to 9999 (Howard Hinnant's
// days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year-- // the year runs from March, so that leap days come last
	}
	y := year + 400 // non-negative for year -1
	era := y / 400
	yoe := y - era*400
	doy := (153*((month+9)%12)+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64((era-1)*146097 + doe - 719468)
}

// digitsAt returns the number the n digits at s[i:] spell, or -1 where
// they are not all digits.
func digitsAt(s string, i, n int) int {
	if i < 0 || i+n > len(s) {
		return -1
	}
	x := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || '9' < c {
			return -1
		}
		x = x*10 + int(c-'0')
	}
	return x
}
