package engine

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/model"
)

// runNetProbe makes a network probe (kube play's httpGet and tcpSocket) of the container whose
// process is pid, from its network namespace, as the kubelet probes a pod from outside it:
// nothing in the image is needed. The result is a check's, exit code 0 or 1 (-1: timed out).
func runNetProbe(pid int, p *model.NetProbe, timeout time.Duration) model.HealthLog {
	res := model.HealthLog{Start: time.Now()}
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	deadline := res.Start.Add(timeout)
	out, err := netProbe(pid, p, deadline)
	res.End = time.Now()
	switch {
	case err == nil:
		res.Output = out
	case time.Now().After(deadline):
		res.ExitCode = -1
		res.Output = fmt.Sprintf("healthcheck command exceeded timeout of %s", timeout)
	default:
		res.ExitCode = 1
		res.Output = err.Error()
	}
	return res
}

func netProbe(pid int, p *model.NetProbe, deadline time.Time) (string, error) {
	host := p.Host
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("probe host %q: an IP address is needed", p.Host)
	}
	addr := netip.AddrPortFrom(ip, uint16(p.Port)).String()
	conn, err := dialIn(pid, addr, deadline)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if p.Kind == "tcp" {
		return "connected to " + addr, nil
	}
	conn.SetDeadline(deadline)
	path := p.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pea-probe\r\nAccept: */*\r\nConnection: close\r\n", path, addr)
	for _, h := range p.Headers {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := conn.Write([]byte(req.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("GET http://%s%s: %w", addr, path, err)
	}
	f := strings.Fields(line)
	code := 0
	if len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		code, _ = strconv.Atoi(f[1])
	}
	status := fmt.Sprintf("GET http://%s%s: %s", addr, path, strings.TrimSpace(line))
	if code < 200 || code >= 400 {
		return "", fmt.Errorf("%s", status)
	}
	return status, nil
}

// dialIn opens a TCP connection to addr from the network namespace of process pid: the socket
// is made by a thread that has entered it (a socket keeps the namespace it was made in).
func dialIn(pid int, addr string, deadline time.Time) (net.Conn, error) {
	target, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("the container's network namespace: %w", err)
	}
	defer unix.Close(target)
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer unix.Close(orig)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("enter the container's network namespace: %w", err)
	}
	d := net.Dialer{Deadline: deadline}
	conn, err := d.Dial("tcp", addr)
	if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	} // else the thread stays locked: Go ends it with the goroutine
	return conn, err
}
