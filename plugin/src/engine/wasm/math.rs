//! `Math` functions imported by wasm, bound to native code (the realm's thread).
//!
//! Faust's modules import `Math.sin`, `Math.pow` and friends as `env._sinf`,
//! `env._powf`; calling them through JavaScript would cost a trip through Boa
//! per sample. When an import is the realm's own `Math` function (the one that
//! was there before any script ran) and the wasm signature has only numbers, the
//! host function computes it directly, exactly as Boa's `Math` does (each formula
//! below is Boa 0.22's; a test compares them over awkward inputs), with the JS
//! API's conversions around it: arguments as Numbers, a missing one as NaN, the
//! result through `ToInt32` or rounding to `f32`.

use wasmtime::{AsContextMut, Func, Val, ValType};

/// One `Math` function over Numbers.
#[derive(Clone, Copy)]
pub(crate) enum MathFn {
    /// One argument.
    Unary(fn(f64) -> f64),
    /// Two arguments.
    Binary(fn(f64, f64) -> f64),
    /// Any number of arguments, folded from a start value.
    Fold(f64, fn(f64, f64) -> f64),
}

/// The functions bound natively, by their name on `Math`.
pub(crate) const FUNCTIONS: &[(&str, MathFn)] = &[
    ("abs", MathFn::Unary(f64::abs)),
    ("acos", MathFn::Unary(f64::acos)),
    ("acosh", MathFn::Unary(acosh)),
    ("asin", MathFn::Unary(f64::asin)),
    ("asinh", MathFn::Unary(asinh)),
    ("atan", MathFn::Unary(f64::atan)),
    ("atanh", MathFn::Unary(f64::atanh)),
    ("atan2", MathFn::Binary(f64::atan2)),
    ("cbrt", MathFn::Unary(f64::cbrt)),
    ("ceil", MathFn::Unary(f64::ceil)),
    ("cos", MathFn::Unary(f64::cos)),
    ("cosh", MathFn::Unary(f64::cosh)),
    ("exp", MathFn::Unary(f64::exp)),
    ("expm1", MathFn::Unary(f64::exp_m1)),
    ("floor", MathFn::Unary(f64::floor)),
    ("log", MathFn::Unary(f64::ln)),
    ("log10", MathFn::Unary(f64::log10)),
    ("log1p", MathFn::Unary(f64::ln_1p)),
    ("log2", MathFn::Unary(f64::log2)),
    ("max", MathFn::Fold(f64::NEG_INFINITY, max)),
    ("min", MathFn::Fold(f64::INFINITY, min)),
    ("pow", MathFn::Binary(pow)),
    ("round", MathFn::Unary(round)),
    ("sign", MathFn::Unary(sign)),
    ("sin", MathFn::Unary(f64::sin)),
    ("sinh", MathFn::Unary(f64::sinh)),
    ("sqrt", MathFn::Unary(f64::sqrt)),
    ("tan", MathFn::Unary(f64::tan)),
    ("tanh", MathFn::Unary(f64::tanh)),
    ("trunc", MathFn::Unary(f64::trunc)),
];

/// Above this, Boa computes `acosh` and `asinh` from the logarithm (no overflow).
const LARGE_INPUT: f64 = 67_108_864.0;

/// `Math.acosh`.
fn acosh(n: f64) -> f64 {
    if n.is_finite() && n > LARGE_INPUT { n.ln() + std::f64::consts::LN_2 } else { n.acosh() }
}

/// `Math.asinh`.
fn asinh(n: f64) -> f64 {
    if n.is_finite() && n.abs() > LARGE_INPUT {
        n.signum() * (n.abs().ln() + std::f64::consts::LN_2 + 0.25 * n.recip() * n.recip())
    } else {
        n.asinh()
    }
}

/// `Math.max` over two Numbers (Boa's step: NaN wins, +0 over -0).
fn max(highest: f64, num: f64) -> f64 {
    if highest.is_nan() || num.is_nan() {
        f64::NAN
    } else if highest == 0.0 && num == 0.0 && highest.signum() != num.signum() {
        0.0
    } else {
        highest.max(num)
    }
}

/// `Math.min` over two Numbers (NaN wins, -0 under +0).
fn min(lowest: f64, num: f64) -> f64 {
    if lowest.is_nan() || num.is_nan() {
        f64::NAN
    } else if lowest == 0.0 && num == 0.0 && lowest.signum() != num.signum() {
        -0.0
    } else {
        lowest.min(num)
    }
}

/// `Math.pow` (`Number::exponentiate`).
#[allow(clippy::float_cmp)]
fn pow(x: f64, y: f64) -> f64 {
    if y.is_nan() || (x.abs() == 1.0 && y.is_infinite()) { f64::NAN } else { x.powf(y) }
}

/// `Math.round`: ties towards +∞.
#[allow(clippy::float_cmp)]
fn round(num: f64) -> f64 {
    if num.fract() == -0.5 { num.ceil() } else { num.round() }
}

/// `Math.sign`.
fn sign(n: f64) -> f64 {
    if n == 0.0 || n.is_nan() { n } else { n.signum() }
}

/// A native body for an import of `f` with signature `params -> results`, or
/// `None` when the signature has a type JavaScript would not pass as a Number
/// (i64, v128, references) or more than one result.
pub(crate) fn bind(
    f: MathFn,
    params: &[ValType],
    results: &[ValType],
) -> Option<impl Fn(&[Val], &mut [Val]) + Send + Sync + 'static> {
    let numeric = |ty: &ValType| matches!(ty, ValType::I32 | ValType::F32 | ValType::F64);
    if !params.iter().all(numeric) || results.len() > 1 || !results.iter().all(numeric) {
        return None;
    }
    let result = results.first().cloned();
    Some(move |args: &[Val], out: &mut [Val]| {
        let number = |index: usize| match args.get(index) {
            Some(Val::I32(v)) => f64::from(*v),
            Some(Val::F32(bits)) => f64::from(f32::from_bits(*bits)),
            Some(Val::F64(bits)) => f64::from_bits(*bits),
            _ => f64::NAN,
        };
        let value = match f {
            MathFn::Unary(g) => g(number(0)),
            MathFn::Binary(g) => g(number(0), number(1)),
            MathFn::Fold(start, g) => (0..args.len()).fold(start, |acc, i| g(acc, number(i))),
        };
        if let (Some(slot), Some(ty)) = (out.first_mut(), &result) {
            *slot = match ty {
                ValType::I32 => Val::I32(to_int32(value)),
                ValType::F32 => Val::F32((value as f32).to_bits()),
                _ => Val::F64(value.to_bits()),
            };
        }
    })
}

/// The same body as a typed host function when the signature is one that math
/// imports nearly always have (`f32 -> f32`, `f64 -> f64`, and two arguments of
/// one float type): wasmtime then calls it without packing values into `Val`
/// arrays, several times faster per call. `None` for any other signature.
pub(crate) fn typed(f: MathFn, params: &[ValType], results: &[ValType], store: impl AsContextMut) -> Option<Func> {
    let all = |types: &[ValType], f32: bool| {
        types.iter().all(|t| if f32 { matches!(t, ValType::F32) } else { matches!(t, ValType::F64) })
    };
    let f32 = all(params, true) && all(results, true);
    if results.len() != 1 || !(f32 || all(params, false) && all(results, false)) {
        return None;
    }
    if let (MathFn::Unary(g), 1) = (f, params.len()) {
        return Some(if f32 {
            Func::wrap(store, move |x: f32| g(f64::from(x)) as f32)
        } else {
            Func::wrap(store, move |x: f64| g(x))
        });
    }
    let pair: Box<dyn Fn(f64, f64) -> f64 + Send + Sync> = match (f, params.len()) {
        (MathFn::Binary(g), 2) => Box::new(g),
        (MathFn::Fold(start, g), 2) => Box::new(move |x, y| g(g(start, x), y)),
        _ => return None,
    };
    Some(if f32 {
        Func::wrap(store, move |x: f32, y: f32| pair(f64::from(x), f64::from(y)) as f32)
    } else {
        Func::wrap(store, move |x: f64, y: f64| pair(x, y))
    })
}

/// ECMAScript `ToInt32` of a Number.
fn to_int32(value: f64) -> i32 {
    if !value.is_finite() {
        return 0;
    }
    let int = value.trunc().rem_euclid(4_294_967_296.0);
    (if int >= 2_147_483_648.0 { int - 4_294_967_296.0 } else { int }) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use boa_engine::{Context, JsValue, Source};

    const AWKWARD: &[f64] = &[
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        1.0,
        -1.0,
        0.3,
        -0.7,
        3.0,
        1e-300,
        1e300,
        -1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        4_294_967_296.5,
        -2_147_483_648.9,
        0.49999999999999994,
    ];

    #[test]
    fn every_bound_function_computes_what_the_realms_math_does() {
        let mut context = Context::default();
        for &(name, f) in FUNCTIONS {
            let math = context.eval(Source::from_bytes(&format!("Math.{name}"))).unwrap();
            let math = math.as_callable().unwrap().clone();
            let pairs: Vec<(f64, f64)> = AWKWARD.iter().flat_map(|&x| AWKWARD.iter().map(move |&y| (x, y))).collect();
            for (x, y) in pairs {
                let expected = math.call(&JsValue::undefined(), &[x.into(), y.into()], &mut context).unwrap();
                let expected = expected.as_number().unwrap();
                let got = match f {
                    MathFn::Unary(g) => g(x),
                    MathFn::Binary(g) => g(x, y),
                    MathFn::Fold(start, g) => g(g(start, x), y),
                };
                assert!(
                    expected.to_bits() == got.to_bits() || (expected.is_nan() && got.is_nan()),
                    "Math.{name}({x}, {y}): Boa gives {expected}, the native binding {got}"
                );
            }
        }
    }

    #[test]
    fn bound_imports_convert_as_the_js_api_does() {
        let sin = bind(MathFn::Unary(f64::sin), &[ValType::F32], &[ValType::F32]).unwrap();
        let mut out = [Val::I32(0)];
        sin(&[Val::F32(1.0f32.to_bits())], &mut out);
        assert!(matches!(out[0], Val::F32(bits) if f32::from_bits(bits) == (1.0f64.sin() as f32)));
        let floor = bind(MathFn::Unary(f64::floor), &[ValType::F64], &[ValType::I32]).unwrap();
        floor(&[Val::F64(3e9f64.to_bits())], &mut out);
        assert!(matches!(out[0], Val::I32(v) if v == -1_294_967_296), "ToInt32 wraps");
        let max =
            bind(MathFn::Fold(f64::NEG_INFINITY, max), &[ValType::F64, ValType::F64, ValType::F64], &[ValType::F64])
                .unwrap();
        max(&[Val::F64(1f64.to_bits()), Val::F64(7f64.to_bits()), Val::F64(3f64.to_bits())], &mut out);
        assert!(matches!(out[0], Val::F64(bits) if f64::from_bits(bits) == 7.0));
        let nothing = bind(MathFn::Unary(f64::sin), &[], &[ValType::F64]).unwrap();
        nothing(&[], &mut out);
        assert!(matches!(out[0], Val::F64(bits) if f64::from_bits(bits).is_nan()), "a missing argument is NaN");
        assert!(bind(MathFn::Unary(f64::sin), &[ValType::I64], &[ValType::F64]).is_none());
        assert!(bind(MathFn::Unary(f64::sin), &[ValType::F64], &[ValType::F64, ValType::F64]).is_none());
        assert_eq!(to_int32(-0.5), 0);
        assert_eq!(to_int32(2_147_483_648.0), -2_147_483_648);
    }

    #[test]
    fn typed_bindings_compute_what_the_untyped_ones_do() {
        let mut store = wasmtime::Store::new(&wasmtime::Engine::default(), ());
        let (f32s, f64s) = ([ValType::F32, ValType::F32], [ValType::F64, ValType::F64]);
        for &(name, f) in FUNCTIONS {
            let untyped1 = bind(f, &f32s[..1], &f32s[..1]).unwrap();
            let untyped2 = bind(f, &f64s, &f64s[..1]).unwrap();
            let unary = typed(f, &f32s[..1], &f32s[..1], &mut store);
            let binary = typed(f, &f64s, &f64s[..1], &mut store);
            assert_eq!(unary.is_some(), matches!(f, MathFn::Unary(_)), "Math.{name}: f32 -> f32");
            assert_eq!(binary.is_some(), !matches!(f, MathFn::Unary(_)), "Math.{name}: (f64, f64) -> f64");
            for &x in AWKWARD {
                let mut out = [Val::I32(0)];
                if let Some(unary) = &unary {
                    untyped1(&[Val::F32((x as f32).to_bits())], &mut out);
                    let got = unary.typed::<f32, f32>(&store).unwrap().call(&mut store, x as f32).unwrap();
                    let Val::F32(want) = out[0] else { panic!() };
                    assert!(got.to_bits() == want || got.is_nan() && f32::from_bits(want).is_nan(), "Math.{name}({x})");
                }
                if let Some(binary) = &binary {
                    untyped2(&[Val::F64(x.to_bits()), Val::F64(0.75f64.to_bits())], &mut out);
                    let got = binary.typed::<(f64, f64), f64>(&store).unwrap().call(&mut store, (x, 0.75)).unwrap();
                    let Val::F64(want) = out[0] else { panic!() };
                    assert!(got.to_bits() == want || got.is_nan() && f64::from_bits(want).is_nan(), "Math.{name}({x})");
                }
            }
        }
        assert!(typed(MathFn::Unary(f64::sin), &[ValType::F64], &[ValType::F32], &mut store).is_none());
        assert!(typed(MathFn::Unary(f64::sin), &[ValType::I32], &[ValType::I32], &mut store).is_none());
    }
}
