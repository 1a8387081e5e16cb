// Command echo is the Go twin of bench/echo.c: a TCP echo server and C
// client goroutines (default 1,000) in one process on loopback; each client
// connects, then sends M messages of 64 bytes (default 200) one at a time,
// waiting for each echo. Reports round trips per second (higher is better),
// with the default GOMAXPROCS.
//
// The listener is on 127.0.0.1 at a port the kernel picks. The server is a
// goroutine that accepts C connections and echoes each on a goroutine of
// its own (Read of up to 512 bytes, Write of what arrived) until end of
// file. A client fills its message with its number and the message's,
// writes it, reads the 64-byte echo (io.ReadFull) and checks it byte for
// byte. The net package sets TCP_NODELAY on both ends. The clock runs from
// before the first client is started (connecting is timed) to after the
// last has checked its last echo (a WaitGroup). C clients and C server
// connections need 2C descriptors: the soft RLIMIT_NOFILE is raised to the
// hard limit first.
// Usage: echo [clients] [messages]
package main

import (
	"bytes"
	"encoding/binary"
	"gmprt/bench/benchutil"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const msgSize = 64

func fill(msg []byte, client, m int64) {
	for i := range msg {
		msg[i] = byte(client*31 + m*7 + int64(i))
	}
	binary.LittleEndian.PutUint64(msg[0:], uint64(client))
	binary.LittleEndian.PutUint64(msg[8:], uint64(m))
}

func echoConn(c net.Conn) {
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				benchutil.Fail("echo: server write: %v", werr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			benchutil.Fail("echo: server read: %v", err)
		}
	}
	c.Close()
}

func main() {
	const usage = "echo [clients] [messages]"
	nClients := benchutil.Arg(1, 1000, usage)
	nMessages := benchutil.Arg(2, 200, usage)
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		benchutil.Fail("echo: listen: %v", err)
	}
	addr := ln.Addr().String()
	go func() {
		for i := int64(0); i < nClients; i++ {
			c, err := ln.Accept()
			if err != nil {
				benchutil.Fail("echo: accept: %v", err)
			}
			go echoConn(c)
		}
	}()
	var roundTrips int64
	var clients sync.WaitGroup
	clients.Add(int(nClients))
	start := time.Now()
	for c := int64(0); c < nClients; c++ {
		go func(id int64) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				benchutil.Fail("echo: dial: %v", err)
			}
			out := make([]byte, msgSize)
			in := make([]byte, msgSize)
			for m := int64(0); m < nMessages; m++ {
				fill(out, id, m)
				if _, err := conn.Write(out); err != nil {
					benchutil.Fail("echo: client write: %v", err)
				}
				if _, err := io.ReadFull(conn, in); err != nil {
					benchutil.Fail("echo: client read: %v", err)
				}
				if !bytes.Equal(in, out) {
					benchutil.Fail("echo: an echo differs from its message")
				}
			}
			conn.Close()
			atomic.AddInt64(&roundTrips, nMessages)
			clients.Done()
		}(c)
	}
	clients.Wait()
	elapsed := time.Since(start)
	if roundTrips != nClients*nMessages {
		benchutil.Fail("echo: %d round trips, want %d", roundTrips, nClients*nMessages)
	}
	ln.Close()
	benchutil.ReportUnit("echo", "round_trips_per_s",
		float64(nClients*nMessages)/elapsed.Seconds(), "rt/s")
}
