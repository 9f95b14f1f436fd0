// Command udpecho answers every UDP datagram on a port with "pong". The end-to-end tests build
// it statically and bind-mount it into a container, because busybox has no UDP server.
package main

import (
	"net"
	"os"
)

func main() {
	addr := ":5353"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		os.Exit(1)
	}
	buf := make([]byte, 1500)
	for {
		_, from, err := conn.ReadFrom(buf)
		if err != nil {
			continue
		}
		conn.WriteTo([]byte("pong\n"), from)
	}
}
