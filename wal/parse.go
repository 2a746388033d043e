package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pglogrepl"
)

// ParseMessage parses one pgoutput message (protocol version 2): the WAL
// data of an XLogData message. inStream must be true between a StreamStart
// and its StreamStop, where row, relation, type, truncate and logical
// decoding messages carry the subtransaction's xid.
//
// pglogrepl.ParseV2 trusts its input: a truncated message indexes past the
// end of the slice, and a Truncate message with a huge relation count
// allocates that many ids. ParseMessage first walks the message's framing
// (every length inside the buffer, every string terminated, every kind
// byte known) and only then hands it to ParseV2, so arbitrary bytes give
// an error wrapping [ErrMalformed], never a panic. The returned message
// may alias data (a logical decoding message's content does).
func ParseMessage(data []byte, inStream bool) (msg pglogrepl.Message, err error) {
	if err := checkMessage(data, inStream); err != nil {
		return nil, err
	}
	defer func() {
		// checkMessage mirrors every read ParseV2 makes; a panic here means
		// the two disagree. Report it as malformed input rather than take
		// the server down on bytes from the network.
		if p := recover(); p != nil {
			msg, err = nil, fmt.Errorf("%w: %v", ErrMalformed, p)
		}
	}()
	msg, err = pglogrepl.ParseV2(data, inStream)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return msg, nil
}

// cursor walks a message's bytes for checkMessage.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) fail(what string) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: truncated %s", ErrMalformed, what)
	}
}

func (c *cursor) skip(n int, what string) {
	if c.err != nil {
		return
	}
	if n < 0 || len(c.b) < n {
		c.fail(what)
		c.b = nil
		return
	}
	c.b = c.b[n:]
}

func (c *cursor) byte1(what string) byte {
	if c.err != nil || len(c.b) < 1 {
		c.fail(what)
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *cursor) uint16(what string) int {
	if c.err != nil || len(c.b) < 2 {
		c.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint16(c.b)
	c.b = c.b[2:]
	return int(v)
}

func (c *cursor) uint32(what string) uint32 {
	if c.err != nil || len(c.b) < 4 {
		c.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint32(c.b)
	c.b = c.b[4:]
	return v
}

func (c *cursor) cstring(what string) {
	if c.err != nil {
		return
	}
	i := bytes.IndexByte(c.b, 0)
	if i < 0 {
		c.fail(what)
		return
	}
	c.b = c.b[i+1:]
}

// tuple walks a TupleData: Int16 column count, then per column a kind byte
// and, for text and binary data, an Int32 length and that many bytes.
func (c *cursor) tuple() {
	n := c.uint16("tuple column count")
	for i := 0; i < n && c.err == nil; i++ {
		switch k := c.byte1("tuple column kind"); k {
		case pglogrepl.TupleDataTypeNull, pglogrepl.TupleDataTypeToast:
		case pglogrepl.TupleDataTypeText, pglogrepl.TupleDataTypeBinary:
			l := c.uint32("tuple column length")
			if uint64(l) > uint64(len(c.b)) {
				c.fail("tuple column data")
				return
			}
			c.skip(int(l), "tuple column data")
		default:
			if c.err == nil {
				c.err = fmt.Errorf("%w: tuple column kind %q", ErrMalformed, k)
			}
		}
	}
}

// checkMessage validates the framing of a pgoutput protocol 2 message
// against the layouts in the Postgres documentation ("Logical Replication
// Message Formats"). It reads no values, only lengths and kind bytes.
func checkMessage(data []byte, inStream bool) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty message", ErrMalformed)
	}
	c := &cursor{b: data[1:]}
	xid := func() {
		if inStream {
			c.skip(4, "xid")
		}
	}
	switch t := pglogrepl.MessageType(data[0]); t {
	case pglogrepl.MessageTypeBegin:
		c.skip(20, "begin")
	case pglogrepl.MessageTypeCommit:
		c.skip(25, "commit")
	case pglogrepl.MessageTypeOrigin:
		c.skip(8, "origin lsn")
		c.cstring("origin name")
	case pglogrepl.MessageTypeRelation:
		xid()
		c.skip(4, "relation id")
		c.cstring("relation namespace")
		c.cstring("relation name")
		c.skip(1, "replica identity")
		n := c.uint16("relation column count")
		for i := 0; i < n && c.err == nil; i++ {
			c.skip(1, "column flags")
			c.cstring("column name")
			c.skip(8, "column type")
		}
	case pglogrepl.MessageTypeType:
		xid()
		c.skip(4, "type id")
		c.cstring("type namespace")
		c.cstring("type name")
	case pglogrepl.MessageTypeInsert:
		xid()
		c.skip(4, "relation id")
		if k := c.byte1("tuple kind"); c.err == nil && k != 'N' {
			return fmt.Errorf("%w: insert tuple kind %q", ErrMalformed, k)
		}
		c.tuple()
	case pglogrepl.MessageTypeUpdate:
		xid()
		c.skip(4, "relation id")
		k := c.byte1("tuple kind")
		if c.err == nil && (k == 'K' || k == 'O') {
			c.tuple()
			k = c.byte1("new tuple kind")
		}
		if c.err == nil && k != 'N' {
			return fmt.Errorf("%w: update tuple kind %q", ErrMalformed, k)
		}
		c.tuple()
	case pglogrepl.MessageTypeDelete:
		xid()
		c.skip(4, "relation id")
		if k := c.byte1("tuple kind"); c.err == nil && k != 'K' && k != 'O' {
			return fmt.Errorf("%w: delete tuple kind %q", ErrMalformed, k)
		}
		c.tuple()
	case pglogrepl.MessageTypeTruncate:
		xid()
		n := c.uint32("truncate relation count")
		c.skip(1, "truncate options")
		if c.err == nil && uint64(n)*4 > uint64(len(c.b)) {
			c.fail("truncate relation ids")
		}
		c.skip(int(n)*4, "truncate relation ids")
	case pglogrepl.MessageTypeMessage:
		xid()
		c.skip(9, "message flags and lsn")
		c.cstring("message prefix")
		l := c.uint32("message length")
		if c.err == nil && uint64(l) > uint64(len(c.b)) {
			c.fail("message content")
		}
		c.skip(int(l), "message content")
	case pglogrepl.MessageTypeStreamStart:
		c.skip(5, "stream start")
	case pglogrepl.MessageTypeStreamStop:
	case pglogrepl.MessageTypeStreamCommit:
		c.skip(29, "stream commit")
	case pglogrepl.MessageTypeStreamAbort:
		c.skip(8, "stream abort")
	default:
		return fmt.Errorf("%w: message type %q", ErrMalformed, byte(t))
	}
	return c.err
}
