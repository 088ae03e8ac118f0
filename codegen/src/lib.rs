//! The `#[channel("pattern")]` attribute of `rocket_pusher`; use it through that crate.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitStr, Pat, parse_macro_input};

mod pattern;

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

fn expand(pattern: &LitStr, function: &ItemFn) -> syn::Result<TokenStream2> {
    // Every path the generated code names is under this one module.
    let private = quote!(::rocket_pusher::__private);
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "a channel route must be an `async fn`",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a channel route takes no generic parameters; write `'_` for a guard's lifetime",
        ));
    }
    let name = &sig.ident;
    let vis = &function.vis;
    let source = pattern.value();
    let params = pattern::params(&source)
        .map_err(|e| syn::Error::new(pattern.span(), format!("invalid channel pattern: {e}")))?;
    let mut bindings = Vec::new();
    let mut args = Vec::new();
    let mut names = Vec::new();
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
        let text = pat.ident.to_string();
        let ty = &arg.ty;
        let var = syn::Ident::new(&format!("__arg{i}"), Span::mixed_site());
        // Spanned on the type, so a type that is neither a parameter nor a guard is
        // reported on it.
        let binding = if let Some(index) = params.iter().position(|p| *p == text) {
            quote_spanned! {ty.span()=>
                let #var: #ty = #private::param(__caps, #index, #text)?;
            }
        } else {
            quote_spanned! {ty.span()=>
                let #var: #ty = <#private::Arg<#ty>>::resolve(__req, __channel, #text).await?;
            }
        };
        bindings.push(binding);
        args.push(var);
        names.push(text);
    }
    if let Some(unknown) = params.iter().find(|p| !names.iter().any(|n| n == *p)) {
        return Err(syn::Error::new(
            pattern.span(),
            format!(
                "<{unknown}> is not an argument of `{name}`: name one argument after each parameter"
            ),
        ));
    }
    Ok(quote! {
        #function

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #name {}

        impl ::core::convert::From<#name> for #private::ChannelRoute {
            fn from(_: #name) -> Self {
                #private::ChannelRoute::new(#pattern, |__req, __channel, __caps| {
                    ::std::boxed::Box::pin(async move {
                        use #private::Guard as _;
                        let _ = (&__req, &__channel, &__caps);
                        #(#bindings)*
                        #private::IntoDecision::into_decision(#name(#(#args),*).await)
                    })
                })
                .named(::core::stringify!(#name))
            }
        }
    })
}
