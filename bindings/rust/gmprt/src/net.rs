//! TCP over the runtime's poller: `TcpListener` and `TcpStream`.
//!
//! Their calls look blocking (`accept`, `read`, `write`, `connect`) but park
//! only the goroutine: the descriptor is non-blocking and registered with
//! the runtime's epoll poller (`gmp_accept`, `gmp_read`, `gmp_write`,
//! `gmp_connect`), so one thread serves many connections. From a plain
//! thread they block that thread, with the same results. Descriptors are
//! closed with `gmp_close`, which wakes whatever waits on them.

use std::fmt;
use std::io::{self, Read, Write};
use std::mem::{self, ManuallyDrop};
use std::net::{self, Shutdown, SocketAddr, ToSocketAddrs};
use std::os::unix::io::{AsRawFd, FromRawFd, IntoRawFd, RawFd};

use gmprt_sys as sys;

/// cvt: a POSIX-style return (-1 and errno) as an io::Result. errno is read
/// at once, on the thread the call returned on (a goroutine may have
/// resumed on another thread than it started the call on: errno is per
/// thread).
fn cvt<T: Copy + PartialOrd + Default>(rc: T) -> io::Result<T> {
    if rc < T::default() {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// with_std: run `f` on a std socket borrowing `fd` (for the calls that
/// never block: addresses, options, shutdown), without closing it.
fn with_std<R>(fd: RawFd, f: impl FnOnce(&net::TcpStream) -> R) -> R {
    // SAFETY: fd is open for the duration; ManuallyDrop keeps std from
    // closing it.
    let s = ManuallyDrop::new(unsafe { net::TcpStream::from_raw_fd(fd) });
    f(&s)
}

/// TcpListener: a listening TCP socket whose `accept` parks the goroutine.
///
/// ```no_run
/// use std::io::{Read, Write};
/// gmprt::main(|| {
///     let l = gmprt::TcpListener::bind("127.0.0.1:7777").unwrap();
///     loop {
///         let (mut s, _) = l.accept().unwrap();
///         gmprt::go(move || {
///             let mut buf = [0u8; 4096];
///             while let Ok(n) = s.read(&mut buf) {
///                 if n == 0 || s.write_all(&buf[..n]).is_err() { break; }
///             }
///         });
///     }
/// }).unwrap();
/// ```
pub struct TcpListener {
    fd: RawFd,
}

impl TcpListener {
    /// bind: listen on the first address of `addr` that can be bound (port
    /// 0: the kernel picks one; see [`local_addr`](Self::local_addr)).
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        // Binding and listening never block; std does them.
        let l = net::TcpListener::bind(addr)?;
        Ok(TcpListener {
            fd: l.into_raw_fd(),
        })
    }

    /// accept: wait for a connection; the new stream and its peer.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        // SAFETY: fd is our open listener; NULL address arguments are
        // allowed, as for accept(2).
        let fd =
            cvt(unsafe { sys::gmp_accept(self.fd, std::ptr::null_mut(), std::ptr::null_mut()) })?;
        let s = TcpStream { fd };
        let peer = s.peer_addr()?;
        Ok((s, peer))
    }

    /// local_addr: the address listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        // SAFETY: as in with_std.
        let l = ManuallyDrop::new(unsafe { net::TcpListener::from_raw_fd(self.fd) });
        l.local_addr()
    }

    /// incoming: accept in a loop (each item one `accept`).
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<TcpStream>> + '_ {
        std::iter::repeat_with(move || self.accept().map(|(s, _)| s))
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        // SAFETY: we own fd; gmp_close wakes goroutines waiting in accept.
        unsafe { sys::gmp_close(self.fd) };
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener").field("fd", &self.fd).finish()
    }
}

/// TcpStream: a TCP connection whose reads, writes and connect park the
/// goroutine; implements `std::io::Read` and `Write` (also on `&TcpStream`,
/// so one goroutine may read while another writes).
pub struct TcpStream {
    fd: RawFd,
}

impl TcpStream {
    /// connect: connect to the first address of `addr` that accepts,
    /// waiting on the poller.
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
        for a in addr.to_socket_addrs()? {
            match TcpStream::connect_one(&a) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn connect_one(addr: &SocketAddr) -> io::Result<TcpStream> {
        let family = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        // SAFETY: plain socket(2).
        let fd = cvt(unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
        let s = TcpStream { fd };
        // SAFETY: sockaddr_storage is plain data, valid when zeroed.
        let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
        let len = match addr {
            SocketAddr::V4(a) => {
                // SAFETY: sockaddr_storage is large and aligned enough for
                // any sockaddr.
                let sin = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in) };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                mem::size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(a) => {
                // SAFETY: as above.
                let sin6 = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in6) };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_flowinfo = a.flowinfo();
                sin6.sin6_scope_id = a.scope_id();
                mem::size_of::<libc::sockaddr_in6>()
            }
        };
        // SAFETY: storage holds a sockaddr of len bytes.
        cvt(unsafe {
            sys::gmp_connect(
                fd,
                &storage as *const _ as *const libc::sockaddr,
                len as libc::socklen_t,
            )
        })?;
        Ok(s)
    }

    /// peer_addr: the remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        with_std(self.fd, |s| s.peer_addr())
    }

    /// local_addr: the local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        with_std(self.fd, |s| s.local_addr())
    }

    /// shutdown: shut down reading, writing or both (shutdown(2)).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        with_std(self.fd, |s| s.shutdown(how))
    }

    /// set_nodelay: TCP_NODELAY on or off.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        with_std(self.fd, |s| s.set_nodelay(on))
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buf is valid for buf.len() bytes.
        cvt(unsafe { sys::gmp_read(self.fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) })
            .map(|n| n as usize)
    }
}

impl Write for &TcpStream {
    /// write: gmp_write writes the whole buffer unless an error occurs (it
    /// waits for room as needed); never raises SIGPIPE (fails with EPIPE).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: buf is valid for buf.len() bytes.
        cvt(unsafe { sys::gmp_write(self.fd, buf.as_ptr() as *const libc::c_void, buf.len()) })
            .map(|n| n as usize)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        // SAFETY: we own fd; gmp_close wakes goroutines waiting on it.
        unsafe { sys::gmp_close(self.fd) };
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream").field("fd", &self.fd).finish()
    }
}
