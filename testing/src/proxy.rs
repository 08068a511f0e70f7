//! A registry front for fault tests: an HTTP/1.1 proxy on 127.0.0.1 that forwards to a real
//! registry and, on a schedule, answers with a status instead (`500`, `429` with
//! `Retry-After`), breaks a connection in the middle of a request body, or demands bearer
//! tokens it issues itself and lets expire after a number of requests (what a token server
//! does to a long push).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One injected fault: from the `nth` request (counted from 1) whose method and path match,
/// `times` requests in a row are answered by `action` instead of the registry.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    /// A part of the path (`/blobs/uploads/`, `/manifests/`).
    pub path_contains: &'static str,
    pub nth: usize,
    pub times: usize,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// Answer with this status and these headers.
    Status(u16, Vec<(&'static str, String)>),
    /// Read this many bytes of the request body, then close the connection.
    ResetAfter(usize),
}

/// Bearer tokens the proxy issues (at `/token`) and checks, each good for `uses` requests.
#[derive(Debug, Clone, Copy)]
pub struct Tokens {
    pub uses: usize,
}

/// A running proxy; it stops with the test process.
#[derive(Debug, Clone)]
pub struct Proxy {
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// Requests handled, by `METHOD path` (tokens included).
    pub log: Arc<Mutex<Vec<String>>>,
}

struct State {
    upstream: String,
    faults: Vec<Fault>,
    seen: Mutex<Vec<usize>>,
    tokens: Option<Tokens>,
    issued: AtomicUsize,
    /// The tokens issued, and their uses left.
    current: Mutex<std::collections::HashMap<String, usize>>,
    log: Arc<Mutex<Vec<String>>>,
}

/// Starts a proxy to `upstream` (`127.0.0.1:PORT`) with `faults` and, optionally, bearer
/// tokens.
#[must_use]
pub fn start(upstream: &str, faults: Vec<Fault>, tokens: Option<Tokens>) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = listener.local_addr().expect("an address").to_string();
    let log = Arc::new(Mutex::new(Vec::new()));
    let state = Arc::new(State {
        upstream: upstream.to_owned(),
        seen: Mutex::new(vec![0; faults.len()]),
        faults,
        tokens,
        issued: AtomicUsize::new(0),
        current: Mutex::new(std::collections::HashMap::new()),
        log: Arc::clone(&log),
    });
    let proxy_address = address.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let state = Arc::clone(&state);
            let address = proxy_address.clone();
            std::thread::spawn(move || {
                let _ = serve(stream, &state, &address);
            });
        }
    });
    Proxy { address, log }
}

/// A request as read from the client: its head and body.
struct Incoming {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Incoming {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request or status line and its headers.
type Head = (String, Vec<(String, String)>);

fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<Head>> {
    let mut first = String::new();
    if reader.read_line(&mut first)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(Some((first.trim_end().to_owned(), headers)))
}

/// Reads a body of `Content-Length` bytes, or chunked, up to `limit` bytes (then `None`, for
/// a connection the fault closes).
fn read_body(
    reader: &mut impl BufRead,
    headers: &[(String, String)],
    limit: Option<usize>,
) -> std::io::Result<Option<Vec<u8>>> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if size == 0 {
                let mut end = String::new();
                reader.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf)?;
            if limit.is_some_and(|l| body.len() >= l) {
                return Ok(None);
            }
        }
    } else if let Some(len) = get("content-length").and_then(|l| l.parse::<usize>().ok()) {
        let mut remaining = len;
        let mut buffer = vec![0; 64 << 10];
        while remaining > 0 {
            let n = reader.read(&mut buffer[..remaining.min(64 << 10)])?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buffer[..n]);
            remaining -= n;
            if limit.is_some_and(|l| body.len() >= l) {
                return Ok(None);
            }
        }
    }
    Ok(Some(body))
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} Fault\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn serve(stream: TcpStream, state: &State, address: &str) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some((first, headers)) = read_head(&mut reader)? {
        let mut parts = first.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        state
            .log
            .lock()
            .expect("the log")
            .push(format!("{method} {path}"));
        // The fault for this request, if one is due.
        let fault = {
            let mut seen = state.seen.lock().expect("the counts");
            state.faults.iter().enumerate().find_map(|(i, f)| {
                if f.method == method && path.contains(f.path_contains) {
                    seen[i] += 1;
                    (seen[i] >= f.nth && seen[i] < f.nth + f.times).then(|| f.action.clone())
                } else {
                    None
                }
            })
        };
        if let Some(Action::ResetAfter(bytes)) = &fault {
            let _ = read_body(&mut reader, &headers, Some(*bytes));
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
        let Some(body) = read_body(&mut reader, &headers, None)? else {
            return Ok(());
        };
        let request = Incoming {
            method,
            path,
            headers,
            body,
        };
        if let Some(Action::Status(status, extra)) = fault {
            respond(
                &mut writer,
                status,
                &extra,
                b"{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"injected\"}]}",
            )?;
            continue;
        }
        if let Some(tokens) = state.tokens {
            if request.path.starts_with("/token") {
                let n = state.issued.fetch_add(1, Ordering::SeqCst);
                let token = format!("token-{n}");
                state
                    .current
                    .lock()
                    .expect("the tokens")
                    .insert(token.clone(), tokens.uses);
                respond(
                    &mut writer,
                    200,
                    &[("Content-Type", "application/json".to_owned())],
                    format!("{{\"token\":\"{token}\",\"expires_in\":300}}").as_bytes(),
                )?;
                continue;
            }
            let presented = request
                .header("authorization")
                .and_then(|a| a.strip_prefix("Bearer "))
                .map(str::to_owned);
            let good = {
                let mut current = state.current.lock().expect("the tokens");
                match presented.and_then(|p| current.get_mut(&p)) {
                    Some(uses) if *uses > 0 => {
                        *uses -= 1;
                        true
                    }
                    _ => false,
                }
            };
            if !good {
                let challenge = format!(
                    "Bearer realm=\"http://{address}/token\",service=\"test-proxy\",scope=\"repository:x:pull,push\""
                );
                respond(&mut writer, 401, &[("WWW-Authenticate", challenge)], b"{}")?;
                continue;
            }
        }
        forward(&request, &mut writer, &state.upstream)?;
    }
    Ok(())
}

/// Sends the request to the registry and copies its answer back.
fn forward(request: &Incoming, client: &mut TcpStream, upstream: &str) -> std::io::Result<()> {
    let mut registry = TcpStream::connect(upstream)?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
    for (k, v) in &request.headers {
        if k.eq_ignore_ascii_case("transfer-encoding")
            || k.eq_ignore_ascii_case("content-length")
            || k.eq_ignore_ascii_case("authorization")
            || k.eq_ignore_ascii_case("connection")
        {
            continue;
        }
        let _ = write!(head, "{k}: {v}\r\n");
    }
    let _ = write!(
        head,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    );
    registry.write_all(head.as_bytes())?;
    registry.write_all(&request.body)?;
    let mut reader = BufReader::new(registry);
    let Some((status, headers)) = read_head(&mut reader)? else {
        return Ok(());
    };
    let no_body = request.method == "HEAD" || status.contains(" 204 ") || status.contains(" 304 ");
    let body = if no_body {
        Vec::new()
    } else if headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    }) {
        read_body(&mut reader, &headers, None)?.unwrap_or_default()
    } else {
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest)?;
        rest
    };
    let mut out = format!("{status}\r\n");
    for (k, v) in &headers {
        if k.eq_ignore_ascii_case("transfer-encoding") || k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let _ = write!(out, "{k}: {v}\r\n");
    }
    let length = if request.method == "HEAD" {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map_or_else(|| "0".to_owned(), |(_, v)| v.clone())
    } else {
        body.len().to_string()
    };
    let _ = write!(out, "Content-Length: {length}\r\n\r\n");
    client.write_all(out.as_bytes())?;
    client.write_all(&body)?;
    client.flush()
}
