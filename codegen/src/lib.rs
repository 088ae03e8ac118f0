//! The `#[channel("pattern")]` attribute of `rocket_pusher`; use it through that crate.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitStr, Pat, Type, parse_macro_input};

/// Turn an async function into a channel route for the pattern; see
/// `rocket_pusher::channel`.
#[proc_macro_attribute]
pub fn channel(attr: TokenStream, item: TokenStream) -> TokenStream {
    let pattern = parse_macro_input!(attr as LitStr);
    let function = parse_macro_input!(item as ItemFn);
    expand(&pattern, &function)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Parameter names of a pattern, in order (the runtime checks the pattern fully).
fn pattern_params(pattern: &str) -> Vec<String> {
    pattern
        .split('.')
        .filter_map(|seg| seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')))
        .map(str::to_owned)
        .collect()
}

/// The last identifier of a type's path, through references (`&Request<'_>` → `Request`).
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Reference(r) => type_name(&r.elem),
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn expand(pattern: &LitStr, function: &ItemFn) -> syn::Result<TokenStream2> {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "a channel route must be an `async fn`",
        ));
    }
    let name = &sig.ident;
    let vis = &function.vis;
    let params = pattern_params(&pattern.value());
    let mut used = vec![false; params.len()];
    let mut bindings = Vec::new();
    let mut args = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(arg) = input else {
            return Err(syn::Error::new(
                input.span(),
                "a channel route takes no `self`",
            ));
        };
        let Pat::Ident(pat) = &*arg.pat else {
            return Err(syn::Error::new(
                arg.pat.span(),
                "use a plain name for each argument",
            ));
        };
        let ident = &pat.ident;
        let ty = &arg.ty;
        let var = syn::Ident::new(&format!("__arg{i}"), Span::mixed_site());
        let text = ident.to_string();
        let span = ty.span();
        let binding = if let Some(index) = params.iter().position(|p| *p == text) {
            used[index] = true;
            quote_spanned! {span=>
                let #var: #ty = ::rocket_pusher::__private::param(__caps, #index, #text)?;
            }
        } else {
            match type_name(ty).as_deref() {
                Some("ChannelRequest") => quote_spanned! {span=> let #var: #ty = __channel; },
                Some("Request") if matches!(**ty, Type::Reference(_)) => {
                    quote_spanned! {span=> let #var: #ty = __req; }
                }
                _ => {
                    let ty_text = quote!(#ty).to_string();
                    quote_spanned! {span=>
                        let #var: #ty = ::rocket_pusher::__private::guard::<#ty>(__req, #ty_text).await?;
                    }
                }
            }
        };
        bindings.push(binding);
        args.push(var);
    }
    if let Some(missing) = used.iter().position(|u| !u) {
        return Err(syn::Error::new(
            pattern.span(),
            format!("<{}> has no argument of the same name", params[missing]),
        ));
    }
    Ok(quote! {
        #function

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #name {}

        impl ::core::convert::From<#name> for ::rocket_pusher::ChannelRoute {
            fn from(_: #name) -> Self {
                ::rocket_pusher::ChannelRoute::new(#pattern, |__req, __channel, __caps| {
                    ::std::boxed::Box::pin(async move {
                        let _ = (&__channel, &__caps);
                        #(#bindings)*
                        ::rocket_pusher::IntoDecision::into_decision(#name(#(#args),*).await)
                    })
                })
                .named(::core::stringify!(#name))
            }
        }
    })
}
