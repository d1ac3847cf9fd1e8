//! The fake's HTTP side: reads a request, routes it to the store and answers as the real
//! API server does (paths, verbs, content types of patches, codes and `Status` bodies).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};

use super::Shared;
use super::resources::{self, Kind};
use super::status::{self, Failure};
use super::store::Key;
use super::{objects, watch};

pub type Body = BoxBody<Bytes, Infallible>;

/// A JSON response.
pub fn reply(code: u16, value: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(value.to_string())).boxed())
        .expect("a valid response")
}

fn fail((code, body): Failure) -> Response<Body> {
    reply(code, &body)
}

/// One request's query parameters.
pub struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a path names: a kind, a namespace, an object and a subresource.
pub struct Target {
    pub kind: &'static Kind,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

impl Target {
    pub fn key(&self, name: &str) -> Key {
        Key::new(self.kind, self.namespace.as_deref(), name)
    }
}

/// Discovery documents, or the object path's parts.
enum Route {
    Document(Value),
    Object(Target),
}

fn route(path: &str) -> Result<Route, Failure> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api"] => return Ok(Route::Document(resources::core_versions())),
        ["apis"] => return Ok(Route::Document(resources::groups())),
        ["api", version] => {
            return resources::resource_list("", version)
                .map(Route::Document)
                .ok_or_else(status::no_route);
        }
        ["apis", group, version] => {
            return resources::resource_list(group, version)
                .map(Route::Document)
                .ok_or_else(status::no_route);
        }
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(status::no_route()),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, more @ ..] => {
            (Some(ns.to_string()), [&[*plural][..], more].concat())
        }
        other => (None, other.to_vec()),
    };
    let kind = rest
        .first()
        .and_then(|plural| resources::by_plural(group, version, plural))
        .ok_or_else(status::no_route)?;
    if namespace.is_some() && !kind.namespaced {
        return Err(status::no_route());
    }
    Ok(Route::Object(Target {
        kind,
        namespace,
        name: rest.get(1).map(|s| s.to_string()),
        subresource: rest.get(2).map(|s| s.to_string()),
    }))
}

/// Answers one request.
pub async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let authorized = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", shared.token));
    if !authorized {
        return Ok(fail(status::unauthorized()));
    }
    let method = request.method().clone();
    let query = Query::parse(request.uri().query());
    let path = request.uri().path().to_string();
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let user_agent = request
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .split('/')
        .next()
        .unwrap_or("unknown")
        .to_string();
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return Ok(fail(status::bad_request(format!(
                "cannot read the body: {e}"
            ))));
        }
    };
    let target = match route(&path) {
        Ok(Route::Document(document)) if method == Method::GET => {
            shared
                .discovery
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Ok(reply(200, &document));
        }
        Ok(Route::Document(_)) => return Ok(fail(status::no_route())),
        Ok(Route::Object(target)) => target,
        Err(failure) => return Ok(fail(failure)),
    };
    let watching = matches!(query.get("watch"), Some("true" | "1"));
    if method == Method::GET && target.name.is_none() && watching {
        return Ok(watch::open(shared, &target, &query));
    }
    let body: Option<Value> = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => Some(value),
            Err(e) => {
                return Ok(fail(status::bad_request(format!(
                    "the body is not JSON: {e}"
                ))));
            }
        }
    };
    let manager = query
        .get("fieldManager")
        .map(str::to_string)
        .unwrap_or(user_agent);
    let request = objects::Call {
        target: &target,
        query: &query,
        body,
        content_type: &content_type,
        manager: &manager,
    };
    let answer = {
        let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
        match method {
            Method::GET => objects::read(&store, &request),
            Method::POST => objects::create(&mut store, &request),
            Method::PUT => objects::replace(&mut store, &request),
            Method::PATCH => objects::patch(&mut store, &request),
            Method::DELETE => objects::delete(&mut store, &request),
            _ => Err(status::bad_request(format!(
                "method {method} is not supported"
            ))),
        }
    };
    Ok(match answer {
        Ok((code, value)) => reply(code, &value),
        Err(failure) => fail(failure),
    })
}

/// The `Status` a deletion of a built-in kind answers with.
pub fn deleted_status(kind: &Kind, name: &str, uid: &Value) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": name, "group": kind.group, "kind": kind.plural, "uid": uid},
    })
}
