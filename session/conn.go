package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/triplesync/triplesync/internal/wire"
)

// closeTimeout bounds sending the close frame when a session ends.
const closeTimeout = time.Second

// handleSession upgrades GET /runtime/session to a WebSocket and starts
// the session's goroutines.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrade.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered with the HTTP error
	}
	ss := newSession(s, ws, r.RemoteAddr)
	if err := s.register(ss); err != nil {
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closing"), time.Now().Add(closeTimeout))
		ws.Close()
		return
	}
	// Frames over the hard limit close the connection (1009); frames
	// between the soft and the hard limit are read, dropped and answered
	// with a "limit" error.
	ws.SetReadLimit(int64(s.cfg.HardMaxMessageBytes))
	go ss.readLoop()
	go ss.writeLoop()
	go ss.work()
}

// readLoop is the reader goroutine: it decodes frames and forwards them to
// the worker, and does nothing else.
func (s *session) readLoop() {
	defer s.srv.wg.Done()
	idle := 2 * s.srv.cfg.PingInterval
	_ = s.ws.SetReadDeadline(time.Now().Add(idle))
	s.ws.SetPongHandler(func(string) error {
		return s.ws.SetReadDeadline(time.Now().Add(idle))
	})
	for {
		typ, r, err := s.ws.NextReader()
		if err != nil {
			s.cancel(fmt.Errorf("read: %w", err))
			return
		}
		_ = s.ws.SetReadDeadline(time.Now().Add(idle))
		in, err := s.readFrame(typ, r)
		if err != nil {
			s.cancel(fmt.Errorf("read: %w", err))
			return
		}
		select {
		case s.inbox <- in:
		case <-s.ctx.Done():
			return
		}
	}
}

// readFrame reads one frame up to the soft size limit. A larger one is
// read to its end and dropped (the connection's hard limit bounds that
// work) and becomes an ErrMessageTooLarge for the worker to answer. The
// error is for the connection: the frame could not be read.
func (s *session) readFrame(typ int, r io.Reader) (inbound, error) {
	limit := s.srv.cfg.MaxMessageBytes
	buf, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return inbound{}, err
	}
	if len(buf) > limit {
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return inbound{}, err
		}
		return inbound{err: fmt.Errorf("%w: frame of %d bytes, limit %d", ErrMessageTooLarge, int64(len(buf))+n, limit)}, nil
	}
	if typ != websocket.TextMessage {
		return inbound{err: ErrBinaryFrame}, nil
	}
	msg, err := wire.Parse(buf)
	return inbound{msg: msg, raw: buf, err: err}, nil
}

// writeLoop is the writer goroutine: it writes queued frames and pings,
// and closes the connection when the session ends.
func (s *session) writeLoop() {
	defer s.srv.wg.Done()
	defer s.ws.Close()
	ping := time.NewTicker(s.srv.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-s.ctx.Done():
			s.closeFrame()
			return
		case <-s.out.ready:
			fs := s.out.take()
			for _, f := range fs {
				s.queued.Add(-int64(len(f)))
				if s.ctx.Err() != nil {
					continue
				}
				_ = s.ws.SetWriteDeadline(time.Now().Add(s.srv.cfg.WriteTimeout))
				if err := s.ws.WriteMessage(websocket.TextMessage, f); err != nil {
					s.cancel(fmt.Errorf("write: %w", err))
					return
				}
			}
			s.out.recycle(fs)
		case <-ping.C:
			_ = s.ws.SetWriteDeadline(time.Now().Add(s.srv.cfg.WriteTimeout))
			if err := s.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				s.cancel(fmt.Errorf("ping: %w", err))
				return
			}
		}
	}
}

// closeFrame tells the client why the session ends, when it still can.
func (s *session) closeFrame() {
	cause := context.Cause(s.ctx)
	code, reason := websocket.CloseNormalClosure, ""
	switch {
	case errors.Is(cause, ErrSlowConsumer):
		return // the socket is likely full; slow already closed it
	case errors.Is(cause, ErrClosed):
		code, reason = websocket.CloseGoingAway, "server closing"
	default:
		var ce *websocket.CloseError
		if !errors.As(cause, &ce) {
			return // the connection failed: nobody to tell
		}
	}
	_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(closeTimeout))
}
