// Sphere tracing, hit refinement, normals and shading. Composed after common.wgsl and one
// fractal module, which provides `fractal_de(p) -> vec2(distance, orbit trap)`, and with
// output.wgsl (the HDR frame it writes).


var<private> pixel_evaluations: u32 = 0u;

// Every distance estimate of a frame goes through here, so it can be counted.
fn estimate(p: vec3<f32>) -> vec2<f32> {
    pixel_evaluations = pixel_evaluations + 1u;
    return fractal_de(p);
}

const SHADOW_STEPS: u32 = 64u;
const AO_SAMPLES: u32 = 5u;
// Bisection steps after a hit; an interpolation between the last two points does the rest.
const REFINE_STEPS: u32 = 4u;

struct Hit {
    t: f32,
    // True when the ray met the surface; false when it left the bounding sphere.
    found: bool,
}

// The smallest distance estimate relative to the distance travelled along this ray (how
// closely it grazed the fractal), for the glow.
var<private> closest_ratio: f32 = 1e9;

// Entry and exit distances of the ray with the sphere that bounds the fractal, or (1, 0).
fn bounding_interval(dir: vec3<f32>) -> vec2<f32> {
    let oc = frame.origin_hi.xyz + frame.origin_lo.xyz + lens_offset;
    let radius = frame.march.z;
    let b = dot(oc, dir);
    let c = dot(oc, oc) - radius * radius;
    let disc = b * b - c;
    if disc < 0.0 {
        return vec2<f32>(1.0, 0.0);
    }
    let s = sqrt(disc);
    return vec2<f32>(max(-b - s, 0.0), -b + s);
}

// The part of `interval` below the fractal's ceiling, where it has one (the terrain's plateau),
// or an empty interval: a ray from above starts where it comes down to it, and one rising ends
// where it passes it. Over the terrain, rays that graze the plateau spent most of their steps
// above it. The hit shell (estimates below `hit_threshold(t)`) reaches bounds.y times the
// threshold above the ceiling, so the ceiling a ray meets rises along it by that much: the
// same hits as without it.
fn below_ceiling(dir: vec3<f32>, interval: vec2<f32>) -> vec2<f32> {
    let z = frame.origin_hi.z + frame.origin_lo.z + lens_offset.z;
    let top = frame.bounds.x;
    let rise = frame.march.x * frame.march.y * frame.bounds.y;
    // How fast the ray closes on that rising ceiling.
    let closing = rise - dir.z;
    var out = interval;
    if z > top {
        if closing <= 0.0 {
            return vec2<f32>(1.0, 0.0);
        }
        out.x = max(out.x, (z - top) / closing);
    } else if closing < 0.0 {
        out.y = min(out.y, (top - z) / -closing);
    }
    return out;
}

// The hit threshold grows with distance: `detail` pixels of footprint, so the surface is resolved
// to about a pixel wherever it is.
fn hit_threshold(t: f32) -> f32 {
    return max(t * frame.march.x * frame.march.y, 1e-7);
}

// How far a ray may step from a point whose estimate is `d` (not a hit: d >= threshold). The
// surface counts as hit where the estimate falls below the threshold, a shell about it; a step
// longer than d (`step_scale`, shaders/common.wgsl) may only reach that shell, whose distance is
// at least (d - threshold) step_scale, or the march would skip sub-pixel ridges that shorter
// steps land on. With step_scale 1 (every kind but the terrain), d.
fn reach(d: f32, threshold: f32) -> f32 {
    return max((d - threshold) * step_scale, d);
}

fn march(dir: vec3<f32>, interval: vec2<f32>) -> Hit {
    var t = interval.x;
    var t_outside = t;
    var d = 0.0;
    // The estimate at t_outside.
    var d_outside = 0.0;
    var found = false;
    // Everything the loop reads of the frame block, read once: `frame` is a storage buffer
    // (see docs/design.md, "Parameter blocks and lavapipe"), and lavapipe reloads storage in
    // every trip of a loop (about 8% of a reference frame's march).
    let step_factor = frame.march.w;
    let max_steps = frame.control.x;
    let glow = (frame.control.y & FLAG_GLOW) != 0u;
    let threshold_per_t = frame.march.x * frame.march.y;
    let origin_hi = frame.origin_hi.xyz;
    let origin_lo = frame.origin_lo.xyz + lens_offset;
    for (var i = 0u; i < max_steps; i = i + 1u) {
        // world_point(dir, t), with the origin read once.
        d = estimate(origin_hi + (origin_lo + dir * t)).x;
        if glow {
            closest_ratio = min(closest_ratio, d / max(t, 1e-6));
        }
        let threshold = max(t * threshold_per_t, 1e-7);
        if d < threshold {
            found = true;
            break;
        }
        t_outside = t;
        d_outside = d;
        t = t + reach(d, threshold) * step_factor;
        if t > interval.y {
            return Hit(t, false);
        }
    }
    if !found {
        // Out of steps: only a ray grazing the surface gets here. Counting it as a hit when it
        // is close avoids background-coloured speckles on silhouettes.
        return Hit(t, d < 8.0 * hit_threshold(t));
    }
    // Bisect between the last point outside the threshold and the first inside it, so the hit
    // does not jump with the step positions (which shows as banding), then take where the
    // margin d - threshold, linear over so short a bracket, crosses zero.
    var lo = t_outside;
    var hi = t;
    var lo_margin = d_outside - hit_threshold(t_outside);
    var hi_margin = d - hit_threshold(t);
    for (var k = 0u; k < REFINE_STEPS; k = k + 1u) {
        let mid = 0.5 * (lo + hi);
        let margin = estimate(world_point(dir, mid)).x - hit_threshold(mid);
        if margin < 0.0 {
            hi = mid;
            hi_margin = margin;
        } else {
            lo = mid;
            lo_margin = margin;
        }
    }
    // A hit on the first step has no outside point (lo == hi).
    let span = lo_margin - hi_margin;
    let along = select(1.0, clamp(lo_margin / span, 0.0, 1.0), span > 0.0 && lo < hi);
    return Hit(mix(lo, hi, along), true);
}

// Gradient of the distance estimate by the tetrahedron technique (4 evaluations instead of 6).
fn surface_normal(p: vec3<f32>, h: f32) -> vec3<f32> {
    let k = vec2<f32>(1.0, -1.0);
    let n = k.xyy * estimate(p + k.xyy * h).x + k.yyx * estimate(p + k.yyx * h).x
        + k.yxy * estimate(p + k.yxy * h).x + k.xxx * estimate(p + k.xxx * h).x;
    let len = length(n);
    return select(vec3<f32>(0.0, 0.0, 1.0), n / len, len > 0.0);
}

// Ambient occlusion from the distance field along the normal, at distances proportional to the
// hit distance so it looks the same at every zoom level.
fn ambient_occlusion(p: vec3<f32>, n: vec3<f32>, t: f32) -> f32 {
    let radius = frame.shading.z * t;
    var occlusion = 0.0;
    var weight = 1.0;
    var total = 0.0;
    for (var i = 1u; i <= AO_SAMPLES; i = i + 1u) {
        let h = radius * f32(i) / f32(AO_SAMPLES);
        let d = estimate(p + n * h).x;
        occlusion = occlusion + weight * clamp((h - d) / h, 0.0, 1.0);
        total = total + weight;
        weight = weight * 0.7;
    }
    return clamp(1.0 - frame.shading.y * occlusion / total, 0.0, 1.0);
}

// Soft shadow towards the directional light: the narrowest cone the ray passes through.
fn soft_shadow(p: vec3<f32>, eps: f32) -> f32 {
    let l = frame.light.xyz;
    let k = frame.light.w;
    // Leave along the light direction until the bounding sphere is behind us.
    let b = dot(p, l);
    let c = dot(p, p) - frame.march.z * frame.march.z;
    let exit = -b + sqrt(max(b * b - c, 0.0));
    var s = 2.0 * eps;
    var result = 1.0;
    let stride = frame.fog_height.z;
    // Above the fractal's ceiling the estimate is at least the height over it / bounds.y, so
    // k d / s is at least k (z - top) / (bounds.y s) there, which tends to k l.z / bounds.y
    // monotonically as the ray rises: once both exceed the result, no later sample can lower
    // it (the terrain's shadow rays leave through empty sky; nothing else has a ceiling).
    let top = frame.bounds.x;
    let rising = frame.bounds.y > 0.0 && l.z > 0.0;
    let per_gap = k / max(frame.bounds.y, 1e-30);
    for (var i = 0u; i < SHADOW_STEPS; i = i + 1u) {
        let d = estimate(p + l * s).x;
        result = min(result, k * d / s);
        if result < 0.002 || s > exit {
            break;
        }
        if rising && min((p.z + l.z * s - top) * per_gap / s, l.z * per_gap) >= result {
            break;
        }
        // Near a fractal surface d stays tiny for a long way; a minimum step that grows with
        // the distance travelled (shadow_stride, 0 in the reference look) keeps the ray moving.
        s = s + max(d, max(eps, stride * s));
    }
    let x = clamp(result, 0.0, 1.0);
    return x * x * (3.0 - 2.0 * x);
}

// The surface palette at t (cyclic), in linear light.
fn surface_gradient(t: f32) -> vec3<f32> {
    let n = u32(frame.surface.z);
    let x = fract(t);
    var i = n - 1u;
    for (var k = 0u; k < n; k = k + 1u) {
        if frame.stops[k].w <= x {
            i = k;
        }
    }
    return gradient_between(frame.stops[i], frame.stops[(i + 1u) % n], x);
}

// The sky in direction `dir`: ground below the horizon, horizon to zenith above, and a halo
// about the key light.
fn sky(dir: vec3<f32>) -> vec3<f32> {
    let z = dir.z;
    var c = mix(frame.sky_horizon.rgb, frame.sky_zenith.rgb, smoothstep(0.0, 0.65, z));
    if z < 0.0 {
        c = mix(frame.sky_horizon.rgb, frame.sky_ground.rgb, smoothstep(0.0, 0.3, -z));
    }
    let sun = max(dot(dir, frame.light.xyz), 0.0);
    let halo = 0.25 * pow(sun, 6.0) + pow(sun, 48.0);
    return c + frame.key_color.rgb * frame.sky_zenith.w * halo;
}

// What a ray that meets nothing shows.
fn background(dir: vec3<f32>) -> vec3<f32> {
    if (frame.control.y & FLAG_SKY) != 0u {
        return sky(dir);
    }
    return frame.background.rgb;
}

// Fraction of light kept along the ray from the camera over distance t: uniform fog plus fog
// that thins with height (its integral along the ray in closed form).
// Densities are per radius of the fractal's bounding sphere, so a look carries over between
// kinds of any size.
fn transmittance(dir: vec3<f32>, t: f32) -> f32 {
    let z0 = frame.origin_hi.z + frame.origin_lo.z + lens_offset.z;
    let density = frame.fog.w / max(frame.march.z, 1e-6);
    var depth = density * t;
    let k = frame.fog_height.x;
    if k > 0.0 {
        let base = density * exp(-k * (z0 - frame.fog_height.y));
        let kz = k * dir.z;
        var along = t;
        if abs(kz * t) > 1e-4 {
            along = (1.0 - exp(-kz * t)) / kz;
        }
        depth = depth + base * along;
    }
    return exp(-depth);
}

fn shade(dir: vec3<f32>, t: f32) -> vec3<f32> {
    let eps = hit_threshold(t);
    let p = world_point(dir, t);
    let n = surface_normal(p, 0.5 * eps);
    // Lift the shading point off the surface along the normal so secondary rays start outside.
    let q = p + n * eps;
    let flags = frame.control.y;

    var base = frame.albedo.rgb;
    // One estimate for either colouring: the flags come from a storage block, so a CPU "GPU"
    // runs both branches below (and would run two estimates).
    if (flags & (FLAG_PALETTE | FLAG_ORBIT_TRAP)) != 0u {
        let trap = estimate(p).y;
        if (flags & FLAG_PALETTE) != 0u {
            base = surface_gradient(frame.surface.x * sqrt(max(trap, 0.0)) + frame.surface.y);
        } else {
            // Surface orbits start at |c| of about 0.4 to 1.1; stretch that range over the
            // blend.
            base = mix(frame.albedo.rgb, frame.trap_color.rgb, smoothstep(0.35, 1.1, sqrt(trap)));
        }
    }
    var ao = 1.0;
    if (flags & FLAG_AO) != 0u {
        ao = ambient_occlusion(q, n, t);
    }
    let l = frame.light.xyz;
    let lambert = max(dot(n, l), 0.0);
    var shadow = 1.0;
    if (flags & FLAG_SHADOWS) != 0u && lambert > 0.0 {
        shadow = soft_shadow(q, eps);
    }
    let light = frame.shading.w * shadow;
    // Sky light from above (+Z), dimmer from below, attenuated by the occlusion.
    var sky_light = frame.shading.x * ao * (0.65 + 0.35 * n.z);
    var color: vec3<f32>;
    if (flags & FLAG_SKY) != 0u {
        // The sky lights the surface in its own colours: what the normal faces, softened.
        let ambient = frame.shading.x * ao * mix(sky(n), frame.sky_horizon.rgb, 0.5);
        color = base * (lambert * light * frame.key_color.rgb + ambient);
    } else {
        color = base * (lambert * light * frame.key_color.rgb + sky_light);
    }
    if (flags & FLAG_FILL) != 0u {
        let fill = max(dot(n, frame.fill_direction.xyz), 0.0) * frame.fill_direction.w;
        color = color + base * frame.fill_color.rgb * fill * ao;
    }
    if (flags & FLAG_SPECULAR) != 0u && lambert > 0.0 {
        let h = normalize(l - dir);
        color = color + frame.albedo.w * pow(max(dot(n, h), 0.0), frame.trap_color.w) * light
            * frame.key_color.rgb;
    }
    if (flags & FLAG_RIM) != 0u {
        let facing = 1.0 - max(dot(n, -dir), 0.0);
        color = color + frame.rim.rgb * pow(facing, frame.rim.w) * ao;
    }
    return color;
}

// Per CONE_CELL x CONE_CELL cell of the tile, from the cone pass: x, how far along its rays
// every pixel of the cell can start marching (beyond the bounding sphere: nothing to march);
// y, the smallest distance estimate over distance travelled on the way there (for the glow).
@group(0) @binding(4) var<storage, read_write> cone_starts: array<vec2<f32>>;
const CONE_CELL: u32 = 8u;

fn cone_cells() -> vec2<u32> {
    return (frame.control.zw + CONE_CELL - 1u) / CONE_CELL;
}

// The cone pass: sphere-traces one cone per cell, the narrowest about the cell's middle ray that
// holds all its pixels' rays, as long as the distance estimate clears the cone's radius. A ray of
// the cell is then at most that radius from the cone's axis, so the space it crossed was empty.
// The pixels start there instead of at the bounding sphere: most of every march is done once
// per 64 pixels.
fn cone_cell(cell: vec2<u32>) {
    let corner = frame.image.zw + cell * CONE_CELL;
    let end = min(corner + CONE_CELL, frame.image.zw + frame.control.zw);
    // Pixel rays pass through pixel + 0.5 + jitter, within this rectangle.
    let lo = vec2<f32>(corner) + 0.5 + frame.jitter.xy;
    let hi = vec2<f32>(end) - 0.5 + frame.jitter.xy;
    let axis = camera_ray_at(0.5 * (lo + hi));
    var cos_half = 1.0;
    cos_half = min(cos_half, dot(axis, camera_ray_at(lo)));
    cos_half = min(cos_half, dot(axis, camera_ray_at(hi)));
    cos_half = min(cos_half, dot(axis, camera_ray_at(vec2<f32>(lo.x, hi.y))));
    cos_half = min(cos_half, dot(axis, camera_ray_at(vec2<f32>(hi.x, lo.y))));
    // A little wider than the corner rays, for rounding.
    let tan_half = 1.02 * sqrt(max(1.0 - cos_half * cos_half, 0.0)) / cos_half + 1e-6;
    let index = cell.x + cell.y * cone_cells().x;
    if (frame.control.y & (FLAG_LENS | FLAG_NO_CONE)) != 0u {
        // Rays from all over the lens have no common apex; some estimates are no safe bound.
        cone_starts[index] = vec2<f32>(0.0, 1e9);
        return;
    }
    let o = frame.origin_hi.xyz + frame.origin_lo.xyz;
    let far = length(o) + frame.march.z;
    var t = max(length(o) - frame.march.z, 0.0);
    var ratio = 1e9;
    let step_factor = frame.march.w;
    for (var i = 0u; i < frame.control.x; i = i + 1u) {
        let d = estimate(world_point(axis, t)).x;
        ratio = min(ratio, d / max(t, 1e-6));
        let r = reach(d, hit_threshold(t));
        let clearance = r - t * tan_half;
        // Stop once the cone crawls (its radius eats most of the step): the pixels take over.
        if clearance < 0.5 * r || clearance < hit_threshold(t) {
            break;
        }
        t = t + clearance * step_factor;
        if t > far {
            break;
        }
    }
    cone_starts[index] = vec2<f32>(t, ratio);
}

@compute @workgroup_size(8, 8)
fn render_main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let cone = (frame.control.y & FLAG_CONE) != 0u;
    // The cone pass is dispatched over cells, the pixels' pass over pixels (gpu::dispatch).
    let width = select(frame.control.z, cone_cells().x, cone);
    let id = spread_pixel(group, groups, local, width);
    if cone {
        if all(id.xy < cone_cells()) {
            cone_cell(id.xy);
            if (frame.control.y & FLAG_COUNT) != 0u {
                atomicAdd(&evaluations[(id.x + id.y * 7u) % 64u], pixel_evaluations);
            }
        }
        return;
    }
    if id.x >= frame.control.z || id.y >= frame.control.w {
        return;
    }
    shade_pixel(id);
    if (frame.control.y & FLAG_COUNT) != 0u {
        atomicAdd(&evaluations[(id.x + id.y * 7u) % 64u], pixel_evaluations);
    }
}

fn shade_pixel(id: vec3<u32>) {
    let pixel = frame.image.zw + id.xy;
    let dir = lens_ray(camera_ray(pixel));
    var sphere = bounding_interval(dir);
    let cone = cone_starts[id.x / CONE_CELL + (id.y / CONE_CELL) * cone_cells().x];
    sphere.x = max(sphere.x, cone.x);
    let interval = below_ceiling(dir, sphere);
    closest_ratio = cone.y;
    var color = background(dir);
    var depth = 0.0;
    var found = false;
    if interval.x < interval.y {
        let hit = march(dir, interval);
        if hit.found {
            color = shade(dir, hit.t);
            depth = hit.t;
            found = true;
        }
    }
    let flags = frame.control.y;
    if (flags & FLAG_GLOW) != 0u && !found && any(interval != sphere) && sphere.x < sphere.y {
        // The glow of a ray that missed is how closely it passed the surface anywhere, above
        // the ceiling too: march the whole way (a hit there is impossible; only the closest
        // pass counts).
        _ = march(dir, sphere);
    }
    if (flags & FLAG_GLOW) != 0u && !found {
        // Falls to exactly zero within its reach, so the bounding sphere (where marching
        // starts) never shows as an edge.
        let g = 1.0 - clamp(closest_ratio / frame.glow.w, 0.0, 1.0);
        color = color + frame.glow.rgb * (g * g * g);
    }
    if (flags & FLAG_FOG) != 0u {
        // Rays that escape see the fog out to the far side of the bounding sphere.
        var t = depth;
        if !found {
            let oc = frame.origin_hi.xyz + frame.origin_lo.xyz;
            t = length(oc) + frame.march.z;
        }
        color = mix(frame.fog.rgb, color, transmittance(dir, t));
    }
    store_sample(id.y * frame.control.z + id.x, id.xy, color, vec2<f32>(depth, 0.0), frame.samples, true);
}
