//! One request to a registry, done right: the scheme (plain HTTP only for this machine and the
//! hosts named insecure), authentication (answering a `401` challenge with basic credentials or
//! a bearer token for the request's scope, and renewing a token that expired), retries with
//! backoff on connection errors, `408`, `429` (honouring `Retry-After`) and `5xx`, bounded
//! bodies, and errors that keep the status and the distribution error code but never a
//! credential.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};

use super::auth::{Challenge, Credentials, Env, Token, base64, find_credentials, parse_challenge};
use super::{RegistryOptions, is_local};
use crate::oci::Error;

/// Makes a request body again for each attempt (an upload restarts from its first byte).
pub(super) type BodyMaker = Arc<dyn Fn() -> Result<reqwest::Body, Error> + Send + Sync>;

/// One request: a method, a path below the registry (or an absolute URL an upload handed
/// out), the scope it needs, headers and a body.
pub(super) struct Request {
    pub method: Method,
    pub target: String,
    pub scope: String,
    pub headers: HeaderMap,
    pub body: Option<BodyMaker>,
}

impl Request {
    pub fn new(method: Method, target: impl Into<String>, scope: impl Into<String>) -> Request {
        Request {
            method,
            target: target.into(),
            scope: scope.into(),
            headers: HeaderMap::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Request {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }

    pub fn body(mut self, body: BodyMaker) -> Request {
        self.body = Some(body);
        self
    }
}

/// What we know about authenticating with one registry.
#[derive(Clone, Default)]
struct AuthState {
    /// The registry asked for basic authentication.
    basic: bool,
    /// The registry's token server, when it asked for bearer tokens.
    bearer: Option<(String, Option<String>)>,
    tokens: HashMap<String, Token>,
}

/// A retry, for progress reports.
pub(super) type OnRetry<'a> = dyn Fn(&str) + Send + Sync + 'a;

pub(super) struct Transport {
    http: reqwest::Client,
    options: RegistryOptions,
    env: Env,
    auth: Mutex<HashMap<String, AuthState>>,
}

/// Error bodies are read up to this many bytes.
const MAX_ERROR_BODY: usize = 64 << 10;

/// A registry answer's body, read up to `limit` bytes (more is an error, not a wait).
pub(super) async fn read_limited(
    mut response: Response,
    limit: u64,
    registry: &str,
    what: &str,
) -> Result<Vec<u8>, Error> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(Error::TooLarge {
            what: format!("{what} from {registry}"),
            limit,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| connection(registry, &e))?
    {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(Error::TooLarge {
                what: format!("{what} from {registry}"),
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failed connection, without the URL's query (upload locations carry state, and some
/// registries put signed tokens there).
fn connection(registry: &str, error: &reqwest::Error) -> Error {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "the connection broke while transferring"
    } else {
        "request failed"
    };
    let cause = std::error::Error::source(error).map_or_else(String::new, |s| format!(": {s}"));
    Error::Registry {
        registry: registry.to_owned(),
        status: None,
        code: None,
        message: format!("{kind}{cause}"),
    }
}

/// An error answer: its status and the first distribution error (`{"errors": [{"code",
/// "message"}]}`) when the body has one.
pub(super) async fn refused(registry: &str, response: Response) -> Error {
    let status = response.status();
    let body = read_limited(response, MAX_ERROR_BODY as u64, registry, "an error")
        .await
        .unwrap_or_default();
    let first = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("errors")?.get(0).cloned());
    let code = first
        .as_ref()
        .and_then(|e| e.get("code")?.as_str().map(str::to_owned));
    let message = first
        .as_ref()
        .and_then(|e| e.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("the registry refused the request")
                .to_lowercase()
        });
    Error::Registry {
        registry: registry.to_owned(),
        status: Some(status.as_u16()),
        code,
        message,
    }
}

/// How long a `Retry-After` says to wait (seconds, or an HTTP date we do not parse: then the
/// backoff), at most a minute.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds.min(60)))
}

fn transient(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

impl Transport {
    pub fn new(options: &RegistryOptions, env: Env) -> Result<Transport, Error> {
        // `MLREEF_REGISTRY_TIMEOUT` (seconds) sets the default for programs, such as the
        // command, that do not choose one.
        let timeout = options
            .timeout
            .or_else(|| {
                env("MLREEF_REGISTRY_TIMEOUT")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|&s| s > 0)
                    .map(Duration::from_secs)
            })
            .unwrap_or(Duration::from_mins(1));
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .user_agent(concat!("mlreef/", env!("CARGO_PKG_VERSION")))
            // reqwest drops `Authorization` when a redirect leads to another host.
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| Error::Unsupported(format!("cannot make an HTTP client: {e}")))?;
        Ok(Transport {
            http,
            options: options.clone(),
            env,
            auth: Mutex::new(HashMap::new()),
        })
    }

    fn scheme(&self, registry: &str) -> &'static str {
        if is_local(registry) || self.options.insecure.iter().any(|h| h == registry) {
            "http"
        } else {
            "https"
        }
    }

    /// The URL of `target`: a path below the registry, or an absolute URL it handed out.
    pub fn url(&self, registry: &str, target: &str) -> String {
        if target.starts_with("http://") || target.starts_with("https://") {
            target.to_owned()
        } else {
            format!("{}://{registry}{target}", self.scheme(registry))
        }
    }

    fn credentials(&self, registry: &str) -> Option<Credentials> {
        find_credentials(registry, &self.options.credentials, &*self.env)
    }

    fn state(&self, registry: &str) -> AuthState {
        self.auth
            .lock()
            .map(|s| s.get(registry).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    fn update(&self, registry: &str, change: impl FnOnce(&mut AuthState)) {
        if let Ok(mut states) = self.auth.lock() {
            change(states.entry(registry.to_owned()).or_default());
        }
    }

    /// The `Authorization` header for a request to `registry` with `scope`, when we have one.
    fn authorization(&self, registry: &str, scope: &str) -> Option<HeaderValue> {
        let state = self.state(registry);
        if let Some(token) = state.tokens.get(scope).filter(|t| t.fresh()) {
            return HeaderValue::from_str(&format!("Bearer {}", token.value)).ok();
        }
        if state.basic && state.bearer.is_none() {
            let c = self.credentials(registry)?;
            let mut value = HeaderValue::from_str(&format!(
                "Basic {}",
                base64(format!("{}:{}", c.username, c.password).as_bytes())
            ))
            .ok()?;
            value.set_sensitive(true);
            return Some(value);
        }
        None
    }

    /// Answers a challenge: remembers basic authentication, or fetches a bearer token for the
    /// scope. `false` when there is nothing more to try.
    async fn authenticate(
        &self,
        registry: &str,
        scope: &str,
        header: Option<&str>,
    ) -> Result<bool, Error> {
        match header.and_then(parse_challenge) {
            Some(Challenge::Basic) => {
                let already = self.state(registry).basic;
                if already || self.credentials(registry).is_none() {
                    return Ok(false);
                }
                self.update(registry, |s| s.basic = true);
                Ok(true)
            }
            Some(Challenge::Bearer { realm, service, .. }) => {
                let mut url = reqwest::Url::parse(&realm).map_err(|_| Error::Registry {
                    registry: registry.to_owned(),
                    status: Some(401),
                    code: None,
                    message: format!("the token server `{realm}` is not a URL"),
                })?;
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(service) = &service {
                        query.append_pair("service", service);
                    }
                    if !scope.is_empty() {
                        query.append_pair("scope", scope);
                    }
                }
                // The token server is asked again, as a registry is, when it fails transiently.
                let retries = self.options.retries.unwrap_or(4);
                let mut attempt = 0;
                let response = loop {
                    let mut request = self.http.get(url.clone());
                    if let Some(c) = self.credentials(registry) {
                        request = request.basic_auth(c.username, Some(c.password));
                    }
                    match request.send().await {
                        Ok(response) if response.status().is_success() => break response,
                        Ok(response) if !transient(response.status()) || attempt >= retries => {
                            return Err(refused(registry, response).await);
                        }
                        Err(error) if attempt >= retries => {
                            return Err(connection(registry, &error));
                        }
                        _ => {}
                    }
                    tokio::time::sleep(Duration::from_millis(250 << attempt.min(5))).await;
                    attempt += 1;
                };
                let body = read_limited(response, 1 << 20, registry, "a token").await?;
                let token = Token::from_response(&body).ok_or_else(|| Error::Registry {
                    registry: registry.to_owned(),
                    status: None,
                    code: None,
                    message: "the token server answered without a token".to_owned(),
                })?;
                self.update(registry, |s| {
                    s.bearer = Some((realm, service));
                    s.tokens.insert(scope.to_owned(), token);
                });
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Sends `request`, authenticating and retrying as needed (see the module docs). Only an
    /// answer that is not an error comes back; `ok_statuses` are the error statuses the caller
    /// wants to see itself (a `404` to a `HEAD`).
    pub async fn send(
        &self,
        registry: &str,
        request: &Request,
        ok_statuses: &[StatusCode],
        on_retry: &OnRetry<'_>,
    ) -> Result<Response, Error> {
        let retries = self.options.retries.unwrap_or(4);
        self.send_with(registry, request, ok_statuses, on_retry, retries)
            .await
    }

    /// [`send`](Self::send) without retries (authentication is still answered): an upload that
    /// breaks is started again as a whole by its caller.
    pub async fn send_once(&self, registry: &str, request: &Request) -> Result<Response, Error> {
        self.send_with(registry, request, &[], &|_| {}, 0).await
    }

    async fn send_with(
        &self,
        registry: &str,
        request: &Request,
        ok_statuses: &[StatusCode],
        on_retry: &OnRetry<'_>,
        retries: u32,
    ) -> Result<Response, Error> {
        let mut attempt = 0u32;
        let mut authenticated = false;
        loop {
            let url = self.url(registry, &request.target);
            let same_host = reqwest::Url::parse(&url)
                .ok()
                .and_then(|u| {
                    let host = u.host_str()?.to_owned();
                    Some(match u.port() {
                        Some(port) => format!("{host}:{port}"),
                        None => host,
                    })
                })
                .is_some_and(|h| h == registry);
            let mut builder = self
                .http
                .request(request.method.clone(), &url)
                .headers(request.headers.clone());
            if same_host && let Some(value) = self.authorization(registry, &request.scope) {
                builder = builder.header(AUTHORIZATION, value);
            }
            if let Some(body) = &request.body {
                builder = builder.body(body()?);
            }
            let backoff = Duration::from_millis(250 * (1 << attempt.min(5)));
            let sent = builder.send().await;
            // What was asked and answered, for `RUST_LOG=mlreef_core=debug`: never a header
            // or a query (upload URLs can carry signatures), so never a credential.
            log::debug!(
                "{} {} -> {}",
                request.method,
                url.split('?').next().unwrap_or_default(),
                match &sent {
                    Ok(response) => response.status().to_string(),
                    Err(error) => format!("no answer: {}", connection(registry, error)),
                }
            );
            match sent {
                Err(error) => {
                    if attempt >= retries {
                        return Err(connection(registry, &error));
                    }
                    on_retry(&connection(registry, &error).to_string());
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                }
                Ok(response) if response.status() == StatusCode::UNAUTHORIZED && same_host => {
                    let challenge = response
                        .headers()
                        .get(WWW_AUTHENTICATE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    // A token that expired, or the first challenge: answer it once.
                    if authenticated {
                        return Err(refused(registry, response).await);
                    }
                    self.update(registry, |s| {
                        s.tokens.remove(&request.scope);
                    });
                    if !self
                        .authenticate(registry, &request.scope, challenge.as_deref())
                        .await?
                    {
                        return Err(refused(registry, response).await);
                    }
                    authenticated = true;
                }
                Ok(response) if transient(response.status()) && attempt < retries => {
                    let wait = retry_after(response.headers()).unwrap_or(backoff);
                    on_retry(&format!(
                        "{} answered {}; trying again in {:.1} s",
                        registry,
                        response.status(),
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Ok(response)
                    if response.status().is_success()
                        || response.status().is_redirection()
                        || ok_statuses.contains(&response.status()) =>
                {
                    return Ok(response);
                }
                Ok(response) => return Err(refused(registry, response).await),
            }
        }
    }
}
