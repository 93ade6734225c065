#!/usr/bin/env python3
"""Rendered people whose pelvic tilt is known exactly: rigged bodies posed in Blender, headless.

    python3.11 -m venv .venv-blender && .venv-blender/bin/pip install 'bpy==4.5.*'
    .venv-blender/bin/python scripts/render-bodies.py --bodies DIR --out DIR [--only standing,walk] [--size 960x540]

Blender runs as a Python module (bpy); EEVEE renders through Mesa's software OpenGL on a machine
with no screen.  Bodies and renders stay out of the repository (docs/accuracy.md says where each
body came from); this script is how they are made.

Each rigged body is scaled to a person's height, turned to face the camera, and posed with its
own bones:

- the pelvis bone is rolled in the frontal plane about a pivot (the midpoint of the hip joints
  standing, the stance hip walking), the first spine bone counter-rolls so the trunk stays
  upright, and both legs are solved with two-bone IK to the feet's planted positions (so one knee
  bends, as in a real hip drop; where the raised hip's leg cannot reach, the whole pelvis sinks);
- the conditions: `standing` (roll −8…+8°), `hike` (standing on one leg, the lifted leg's side
  raised), `lean` (the pelvis level, the trunk leaning over the stance leg: the quadratus
  lumborum's compensation, which is not a drop), `rigid` (the level stand with the camera rolled,
  so the whole picture turns), and `walk` (a procedural gait toward the camera, feet planted in
  stance, with 0, 4 or 8° of drop added on the swing side, pivoting about the stance hip);
- each with no marker, a saturated strap around the waist at the belt line, a coloured stick
  laced through the front belt loops, or an ordinary dark leather belt (no marker: an edge the
  picture may read); all are children of the pelvis bone, so they roll with it;
- `exercise`: sets of standing hip abduction (the coach's exercise), each a still start, then reps
  with known sides, peaks, hikes and leans: `ex_clean` (peaks of 10–35°, the small ones under the
  coach's enter angle), `ex_hike` (the lifted side's pelvis raised 0, 3, 5 and 8° about the
  standing hip), `ex_lean` (the trunk leaning 5, 8 and 12° over the standing leg, the pelvis
  level), `ex_walkin` (walking in from 2 m further off, two reps, then side-stepping away) and
  `ex_far`/`ex_near` (reps with the camera 4.2 and 2.4 m off).  The lifted leg's ankle is put on
  a circle about its hip joint and the leg solved with IK; the standing foot stays planted.

The truth is the hip-joint centres (the thigh bones' heads) projected through the camera, written
to `truth.json` beside the pictures: per picture or per frame, each hip's pixel position; an
exercise set also has its reps (side, start and end, the leg's peak angle out from the vertical,
the hike and the lean), and per frame the lifted leg's angle.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import bpy  # type: ignore[import-not-found]
import mathutils  # type: ignore[import-not-found]
from bpy_extras.object_utils import world_to_camera_view  # type: ignore[import-not-found]

V = mathutils.Vector
M = mathutils.Matrix

MIXAMO = {"hips": "mixamorig:Hips", "spine": "mixamorig:Spine", "thigh": "mixamorig:{s}UpLeg",
          "shin": "mixamorig:{s}Leg", "foot": "mixamorig:{s}Foot", "arm": "mixamorig:{s}Arm",
          "forearm": "mixamorig:{s}ForeArm", "left": "Left", "right": "Right"}


@dataclass(frozen=True)
class BodySpec:
    """A rigged body file and how to set it up."""

    name: str
    file: str
    rig: dict[str, str | None]
    height_m: float
    split: str
    """"tune" or "held": which part of the harness its pictures belong to."""
    strap: str
    """The strap's colour (#RRGGBB, the paint's own colour before light and shade)."""
    stick: str
    camera_distance_m: float
    camera_height_m: float
    sha256: str = ""
    """The file's sha256, checked before it is used (docs/accuracy.md says where each came from)."""
    dress: tuple[str, str] | None = None
    """A top and trousers (#RRGGBB each) for a bare body: the trousers' waistband at the belt line
    of the body's rest pose, moving with the skin around it."""


BODIES = (
    BodySpec("xbot", "Xbot.glb", MIXAMO, 1.78, "tune", "#00A8FF", "#8A2BE2", 3.4, 1.25,
             sha256="acc1566ba53cca1a2a527a3d36faa5d17be6689a2ebbd94eed4841c7bf46476a"),
    BodySpec("mannequin", "Mannequin.glb", MIXAMO, 1.72, "tune", "#E0129A", "#FF6A00", 3.2, 1.35,
             dress=("#6E7F8C", "#2B3550"), sha256="267a0443e5be565be4c340cb6cf02a4820227c3f368d091731b123d1e0a3cff1"),
    BodySpec("soldier", "Soldier.glb", MIXAMO, 1.80, "held", "#C8F000", "#E0129A", 3.0, 1.10,
             sha256="f70fcb038fd0b5f3bd24218032905eeae855ddd8616b620751a2305101bd6338"),
)
STAND_ROLLS = (-8.0, -6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0)
HIKES = (2.0, 4.0, 6.0, 8.0)
LEANS = (5.0, 10.0, 15.0)
CAMERA_ROLLS = (-8.0, -4.0, 4.0, 8.0)
WALK_DROPS = (0.0, 4.0, 8.0)
MARKERS = ("none", "strap", "stick", "belt")
"""Nothing at the belt line, a strap or a stick of a strong colour (markers), an ordinary belt (none)."""
BELT_ABOVE_HIPS = 0.055
"""The belt line above the hip-joint centres, in body heights (about 9–10 cm)."""
ORDINARY_BELT = ("#3B2A1E", 0.035)
"""An ordinary leather belt (dark brown, 3.5 cm): no marker, but an edge the picture may read."""
STICK = (1.0, 0.022)
"""The stick's length and diameter in metres (a painted dowel)."""


def hex_rgb(color: str) -> tuple[float, float, float]:
    """#RRGGBB as linear RGB (Blender's colours are linear; sRGB paint)."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return tuple(linear(int(color[i:i + 2], 16) / 255) for i in (1, 3, 5))  # type: ignore[return-value]


def material(name: str, rgb: tuple[float, float, float], roughness: float = 0.6) -> bpy.types.Material:
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    return mat


def noisy_material(name: str, rgb_a: tuple[float, float, float], rgb_b: tuple[float, float, float],
                   scale: float, roughness: float = 0.8) -> bpy.types.Material:
    """A surface with some texture (plaster, floorboards), so the room is not a flat colour."""
    mat = material(name, rgb_a, roughness)
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    noise = nodes.new("ShaderNodeTexNoise")
    noise.inputs["Scale"].default_value = scale
    ramp = nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].color = (*rgb_a, 1.0)
    ramp.color_ramp.elements[1].color = (*rgb_b, 1.0)
    links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
    links.new(ramp.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
    return mat


def box(name: str, size: tuple[float, float, float], at: tuple[float, float, float], mat: bpy.types.Material) -> None:
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=at)
    obj = bpy.context.active_object
    obj.name = name
    obj.scale = size
    obj.data.materials.append(mat)


def build_room() -> None:
    """A hallway-sized room: a floor, a back wall with a skirting board and a door, a side wall, a
    bench and a picture frame; a window's daylight and a ceiling lamp."""
    floor = noisy_material("floor", (0.30, 0.20, 0.12), (0.42, 0.30, 0.18), 6.0, 0.5)
    wall = noisy_material("wall", (0.62, 0.60, 0.55), (0.70, 0.68, 0.63), 40.0)
    side = noisy_material("side", (0.50, 0.55, 0.58), (0.56, 0.60, 0.62), 30.0)
    wood = noisy_material("wood", (0.25, 0.14, 0.07), (0.33, 0.20, 0.10), 12.0, 0.4)
    white = material("white", (0.8, 0.8, 0.78), 0.4)
    grey = material("grey", (0.2, 0.2, 0.22), 0.7)
    box("floor", (12.0, 14.0, 0.02), (0.0, 0.0, -0.01), floor)
    box("back_wall", (12.0, 0.1, 3.2), (0.0, 4.5, 1.6), wall)
    box("side_wall", (0.1, 14.0, 3.2), (-3.0, 0.0, 1.6), side)
    box("skirting", (12.0, 0.02, 0.1), (0.0, 4.44, 0.05), white)
    box("door", (0.9, 0.04, 2.05), (1.6, 4.43, 1.025), wood)
    box("door_frame", (1.05, 0.03, 2.12), (1.6, 4.445, 1.06), white)
    box("bench", (1.6, 0.45, 0.45), (-1.8, 3.9, 0.225), grey)
    box("frame", (0.8, 0.03, 0.6), (-1.2, 4.44, 1.6), wood)
    box("picture", (0.7, 0.02, 0.5), (-1.2, 4.42, 1.6), material("picture", (0.15, 0.25, 0.35), 0.5))
    bpy.ops.object.light_add(type="SUN", location=(3.0, -2.0, 5.0))
    sun = bpy.context.active_object
    sun.data.energy = 2.5
    sun.rotation_euler = (math.radians(50), math.radians(20), math.radians(30))
    bpy.ops.object.light_add(type="AREA", location=(0.0, -1.0, 3.0))
    lamp = bpy.context.active_object
    lamp.data.energy = 250.0
    lamp.data.size = 2.0
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.25, 0.25, 0.27, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.6
    bpy.context.scene.world = world


class Body:
    """One rigged body in the scene, scaled, turned to face the camera (−y) and standing at the origin."""

    def __init__(self, spec: BodySpec, bodies: Path) -> None:
        self.spec = spec
        path = bodies / spec.file
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
        if spec.sha256 and digest != spec.sha256:
            raise SystemExit(f"render-bodies: {path} is {digest}, not the body this script was made for "
                             f"({spec.sha256}; docs/accuracy.md says where it comes from)")
        before = set(bpy.data.objects)
        # bones pointing at their children, so that a shin's tail is the ankle (the default heuristic
        # leaves some tails far off, which the IK solver then takes for the shin's length)
        bpy.ops.import_scene.gltf(filepath=str(bodies / spec.file), bone_heuristic="FORTUNE")
        new = [o for o in bpy.data.objects if o not in before]
        self.arm = next(o for o in new if o.type == "ARMATURE")
        for obj in new:
            if obj.type == "MESH" and obj.parent is None:
                bpy.data.objects.remove(obj)  # the importer's bone shape
        # every placement goes on a root above the armature, whatever turn and scale the file gave it
        self.root = bpy.data.objects.new("root", None)
        bpy.context.scene.collection.objects.link(self.root)
        self.arm.parent = self.root
        self.meshes = [o for o in bpy.data.objects if o.type == "MESH" and o.parent is not None
                       and o.find_armature() is self.arm]
        if self.arm.animation_data:
            self.arm.animation_data.action = None
        for pb in self.arm.pose.bones:
            pb.matrix_basis = M.Identity(4)
        self.update()
        # scale to the person's height and stand at the origin, facing the camera (-y)
        low, high = self.mesh_bounds()
        scale = spec.height_m / (high.z - low.z)
        self.root.scale = (scale,) * 3
        self.update()
        # face the camera (-y): a person facing -y has the left hip toward +x
        across = self.hip("left") - self.hip("right")
        self.root.rotation_euler.z -= math.atan2(across.y, across.x)
        self.update()
        low, _ = self.mesh_bounds()
        mid = (self.hip("left") + self.hip("right")) / 2
        self.root.location -= V((mid.x, mid.y, low.z))
        self.update()
        self.paint()

    def paint(self) -> None:
        """A top and trousers on a bare body (BodySpec.dress)."""
        spec = self.spec
        if spec.dress is None:
            return
        # the waistband's height in the mesh's own (rest) coordinates: the belt line of the base stand
        waist_z = (self.hip("left").z + BELT_ABOVE_HIPS * spec.height_m - 0.02)
        top, trousers = (material(f"dress_{k}", hex_rgb(c), 0.8) for k, c in zip(("top", "trousers"), spec.dress,
                                                                               strict=True))
        skin = material("dress_skin", hex_rgb("#D9A88A"), 0.6)
        for obj in self.meshes:
            mesh = obj.data
            mesh.materials.clear()
            for mat in (top, trousers, skin):
                mesh.materials.append(mat)
            world = obj.matrix_world
            for polygon in mesh.polygons:
                centre = world @ polygon.center
                # in the rest pose (arms out): the head and the forearms bare
                bare = centre.z > 0.86 * spec.height_m or abs(centre.x) > 0.5 * spec.height_m * 0.5
                polygon.material_index = 2 if bare else 1 if centre.z < waist_z else 0

    def rig(self, role: str, side: str | None = None) -> str | None:
        pattern = self.spec.rig[role]
        if pattern is None:
            return None
        return pattern.format(s=self.spec.rig[side]) if side else pattern

    def bone(self, role: str, side: str | None = None) -> bpy.types.PoseBone:
        return self.arm.pose.bones[self.rig(role, side)]

    def update(self) -> None:
        bpy.context.view_layer.update()

    def world(self, pb: bpy.types.PoseBone, tail: bool = False) -> mathutils.Vector:
        return self.arm.matrix_world @ (pb.tail if tail else pb.head)

    def hip(self, side: str) -> mathutils.Vector:
        """The hip joint's centre: the thigh bone's head, in world metres."""
        return self.world(self.bone("thigh", side))

    def ankle(self, side: str) -> mathutils.Vector:
        """The ankle: the foot bone's head (a bone's tail need not reach its child), else the shin's tail."""
        if self.rig("foot"):
            return self.world(self.bone("foot", side))
        return self.world(self.bone("shin", side), tail=True)

    def mesh_bounds(self) -> tuple[mathutils.Vector, mathutils.Vector]:
        depsgraph = bpy.context.evaluated_depsgraph_get()
        lo = V((math.inf,) * 3)
        hi = V((-math.inf,) * 3)
        for obj in self.meshes:
            evaluated = obj.evaluated_get(depsgraph)
            mesh = evaluated.to_mesh()
            for vertex in mesh.vertices:
                p = evaluated.matrix_world @ vertex.co
                lo = V(map(min, lo, p))
                hi = V(map(max, hi, p))
            evaluated.to_mesh_clear()
        return lo, hi

    def section(self, z: float, band: float = 0.015) -> list[mathutils.Vector]:
        """The body's vertices within `band` of height `z` (world), for fitting a strap around it."""
        depsgraph = bpy.context.evaluated_depsgraph_get()
        points = []
        for obj in self.meshes:
            evaluated = obj.evaluated_get(depsgraph)
            mesh = evaluated.to_mesh()
            for vertex in mesh.vertices:
                p = evaluated.matrix_world @ vertex.co
                if abs(p.z - z) < band:
                    points.append(p)
            evaluated.to_mesh_clear()
        return points

    def set_world_matrix(self, pb: bpy.types.PoseBone, world: mathutils.Matrix) -> None:
        pb.matrix = self.arm.matrix_world.inverted() @ world
        self.update()

    def world_matrix(self, pb: bpy.types.PoseBone) -> mathutils.Matrix:
        return self.arm.matrix_world @ pb.matrix

    def aim(self, pb: bpy.types.PoseBone, direction: mathutils.Vector, end: mathutils.Vector | None = None) -> None:
        """Turn a bone about its head so that the line from its head to `end` (world; its tail by
        default, or its child's head: a bone's tail need not reach its child) points along `direction`."""
        head = self.world(pb)
        tail = end if end is not None else self.world(pb, tail=True)
        turn = (tail - head).rotation_difference(direction).to_matrix().to_4x4()
        self.set_world_matrix(pb, M.Translation(head) @ turn @ M.Translation(-head) @ self.world_matrix(pb))


def roll_about(pivot: mathutils.Vector, roll_deg: float, yaw_deg: float = 0.0) -> mathutils.Matrix:
    """A world transform: turn about the anteroposterior axis (world y, toward the scene) through
    `pivot` (positive: the person's left side goes down), then about the vertical."""
    turn = M.Rotation(math.radians(yaw_deg), 4, "Z") @ M.Rotation(math.radians(roll_deg), 4, "Y")
    return M.Translation(pivot) @ turn @ M.Translation(-pivot)


@dataclass
class Stance:
    """What a pose asks of the body: where the pelvis goes and where each foot is planted."""

    roll_deg: float = 0.0
    pivot: mathutils.Vector | None = None
    """World point the pelvis rolls about (None: the midpoint of the hip joints)."""
    shift: mathutils.Vector | None = None
    """The pelvis moved by this much (world metres) before the roll: walking forward, the bob, the sway."""
    yaw_deg: float = 0.0
    lean_deg: float = 0.0
    """The trunk's roll over the stance leg, about the first spine bone's head (positive: toward the person's left)."""
    feet: dict[str, mathutils.Vector] | None = None
    """Each ankle's target (world); None: where it stands in the base pose."""
    arm_swing_deg: float = 0.0
    """The left arm forward by this much, the right back."""


class Poser:
    """Poses one body: a base stand (arms down), then any Stance, with the truth it makes."""

    def __init__(self, body: Body) -> None:
        self.body = body
        b = body
        # the base stand: arms hanging a little away from the body, elbows a little bent
        for side, sign in (("left", 1.0), ("right", -1.0)):
            arm, forearm = b.bone("arm", side), b.bone("forearm", side)
            b.aim(arm, V((sign * 0.2, 0.02, -1.0)).normalized(), b.world(forearm))
            b.aim(forearm, V((sign * 0.12, -0.18, -1.0)).normalized(), b.world(forearm.children[0])
                  if forearm.children else None)
        # a slight bend at each knee, so that IK keeps bending them forward
        for side in ("left", "right"):
            thigh, shin = b.bone("thigh", side), b.bone("shin", side)
            hip, knee = b.world(thigh), b.world(shin)
            b.aim(thigh, (knee + V((0, -0.03, 0)) - hip).normalized(), knee)
            knee, ankle = b.world(shin), b.ankle(side)
            b.aim(shin, (V((knee.x, knee.y + 0.03, ankle.z)) - knee).normalized(), ankle)
        self.hips0 = b.world_matrix(b.bone("hips"))
        self.spine0 = b.world_matrix(b.bone("spine"))
        self.arms0 = {side: b.world_matrix(b.bone("arm", side)) for side in ("left", "right")}
        self.ankle0 = {side: b.ankle(side).copy() for side in ("left", "right")}
        self.foot0 = {side: b.world_matrix(b.bone("foot", side)) for side in ("left", "right")} \
            if b.rig("foot") else {}
        self.leg_m = {side: (b.world(b.bone("shin", side)) - b.hip(side)).length
                      + (self.ankle0[side] - b.world(b.bone("shin", side))).length for side in ("left", "right")}
        self.hip0 = {side: b.hip(side).copy() for side in ("left", "right")}
        self.hip_mid0 = (self.hip0["left"] + self.hip0["right"]) / 2
        self.targets = {}
        for side in ("left", "right"):
            empty = bpy.data.objects.new(f"ankle_{side}", None)
            bpy.context.scene.collection.objects.link(empty)
            empty.location = self.ankle0[side]
            self.targets[side] = empty
            ik = b.bone("shin", side).constraints.new("IK")  # the shin's tail, the ankle, reaches the target
            ik.chain_count, ik.use_tail = 2, True
            ik.target = empty
            ik.iterations = 500
            if self.foot0:
                foot_empty = bpy.data.objects.new(f"foot_{side}", None)
                bpy.context.scene.collection.objects.link(foot_empty)
                foot_empty.matrix_world = self.foot0[side]
                copy = b.bone("foot", side).constraints.new("COPY_ROTATION")
                copy.target = foot_empty
                self.targets[f"foot_{side}"] = foot_empty
        b.update()

    def pose(self, stance: Stance) -> None:
        b = self.body
        shift = stance.shift or V((0, 0, 0))
        feet = stance.feet or self.ankle0
        for side in ("left", "right"):
            self.targets[side].location = feet[side]
            if f"foot_{side}" in self.targets:
                moved = M.Translation(feet[side] - self.ankle0[side]) @ self.foot0[side]
                self.targets[f"foot_{side}"].matrix_world = moved
        pivot = (stance.pivot if stance.pivot is not None else self.hip_mid0 + shift)
        sink = 0.0
        for _ in range(6):  # sink the pelvis until the longer leg reaches its foot
            hips = M.Translation(V((0, 0, -sink))) @ roll_about(pivot, stance.roll_deg, stance.yaw_deg) \
                @ M.Translation(shift) @ self.hips0
            b.set_world_matrix(b.bone("hips"), hips)
            reach = max((b.hip(side) - feet[side]).length - 0.995 * self.leg_m[side] for side in ("left", "right"))
            if reach <= 1e-4:
                break
            sink += reach * 1.05
        # the trunk stays upright (or leans by lean_deg), its first bone's head where the pelvis took it
        spine = b.bone("spine")
        head = b.world(spine)
        upright = M.Translation(head) @ M.Rotation(math.radians(stance.lean_deg), 4, "Y") \
            @ M.Rotation(math.radians(stance.yaw_deg * -0.5), 4, "Z") @ M.Translation(-self.spine0.translation) \
            @ self.spine0
        b.set_world_matrix(spine, upright)
        for side, sign in (("left", 1.0), ("right", -1.0)):
            pb = b.bone("arm", side)
            shoulder = b.world(pb)
            swing = M.Rotation(math.radians(sign * stance.arm_swing_deg), 4, "X")
            # the arm hangs as in the base stand, swung forward or back about the shoulder
            relative = self.spine0.inverted() @ self.arms0[side]
            hang = upright @ relative
            b.set_world_matrix(pb, M.Translation(shoulder) @ swing @ M.Translation(-shoulder) @ hang)
        b.update()

    def hips_world(self) -> tuple[mathutils.Vector, mathutils.Vector]:
        return self.body.hip("left"), self.body.hip("right")


def add_strap(body: Body, poser: Poser, color: str, height_m: float = 0.045, roughness: float = 0.55,
              name: str = "strap") -> bpy.types.Object:
    """A band `height_m` tall around the waist at the belt line, a little off the body, following
    the body's own section there (its convex hull), a child of the pelvis bone."""
    z = poser.hip_mid0.z + BELT_ABOVE_HIPS * body.spec.height_m
    section = body.section(z)
    centre = sum(section, V((0, 0, 0))) / len(section)
    hull = mathutils.geometry.convex_hull_2d([(p.x, p.y) for p in section])
    ring = [V((section[i].x, section[i].y)) for i in hull]
    # even the ring out: 72 directions from the centre, each at the hull's distance plus 8 mm
    points = []
    for k in range(72):
        a = 2 * math.pi * k / 72
        d = V((math.cos(a), math.sin(a)))
        best = 0.0
        for i in range(len(ring)):
            p, q = ring[i] - centre.xy, ring[(i + 1) % len(ring)] - centre.xy
            hit = _ray_segment(d, p, q)
            if hit is not None:
                best = max(best, hit)
        points.append(centre.xy + d * (best + 0.008))
    mesh = bpy.data.meshes.new(name)
    verts = [(p.x, p.y, z + dz) for dz in (-height_m / 2, height_m / 2) for p in points]
    n = len(points)
    faces = [(k, (k + 1) % n, n + (k + 1) % n, n + k) for k in range(n)]
    mesh.from_pydata(verts, [], faces)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    solidify = obj.modifiers.new("thickness", "SOLIDIFY")
    solidify.thickness = 0.003
    obj.data.materials.append(material(name, hex_rgb(color), roughness))
    _parent_to_pelvis(body, obj)
    return obj


def _ray_segment(d: mathutils.Vector, p: mathutils.Vector, q: mathutils.Vector) -> float | None:
    """Where a ray from the origin along d meets the segment pq (its distance), else None."""
    e = q - p
    denominator = d.x * e.y - d.y * e.x
    if abs(denominator) < 1e-12:
        return None
    t = (p.x * e.y - p.y * e.x) / denominator
    s = (p.x * d.y - p.y * d.x) / denominator
    return t if t >= 0 and -1e-9 <= s <= 1 + 1e-9 else None


def add_stick(body: Body, poser: Poser, color: str) -> bpy.types.Object:
    """A dowel laced through the front belt loops: across the belly at the belt line, just in front."""
    z = poser.hip_mid0.z + BELT_ABOVE_HIPS * body.spec.height_m
    section = body.section(z)
    front = min(p.y for p in section if abs(p.x) < 0.06)
    length, diameter = STICK
    bpy.ops.mesh.primitive_cylinder_add(vertices=24, radius=diameter / 2, depth=length,
                                        location=(0.0, front - diameter / 2 - 0.004, z),
                                        rotation=(0.0, math.pi / 2, 0.0))
    obj = bpy.context.active_object
    obj.name = "stick"
    obj.data.materials.append(material("stick", hex_rgb(color), 0.45))
    _parent_to_pelvis(body, obj)
    return obj


def _parent_to_pelvis(body: Body, obj: bpy.types.Object) -> None:
    world = obj.matrix_world.copy()
    obj.parent = body.arm
    obj.parent_type = "BONE"
    obj.parent_bone = body.rig("hips")
    body.update()
    obj.matrix_world = world
    body.update()


class Camera:
    def __init__(self, spec: BodySpec, width: int, height: int) -> None:
        scene = bpy.context.scene
        scene.render.resolution_x, scene.render.resolution_y = width, height
        scene.render.resolution_percentage = 100
        data = bpy.data.cameras.new("camera")
        data.lens = 26.0
        data.sensor_width = 36.0
        self.obj = bpy.data.objects.new("camera", data)
        scene.collection.objects.link(self.obj)
        scene.camera = self.obj
        self.spec = spec
        self.place(0.0)

    def place(self, roll_deg: float, look_at_z: float | None = None, distance_m: float | None = None) -> None:
        """The kiosk's camera in front of the person, looking at the middle of the body, rolled
        about its own axis by `roll_deg` (the rigid control), `distance_m` off (the body's own by default)."""
        spec = self.spec
        distance = spec.camera_distance_m if distance_m is None else distance_m
        self.obj.location = (0.0, -distance, spec.camera_height_m)
        target = V((0.0, 0.0, look_at_z if look_at_z is not None else 0.5 * spec.height_m))
        direction = target - self.obj.location
        rotation = direction.to_track_quat("-Z", "Y").to_matrix().to_4x4()
        self.obj.matrix_world = M.Translation(self.obj.location) @ rotation @ M.Rotation(math.radians(roll_deg), 4, "Z")
        bpy.context.view_layer.update()

    def pixel(self, point: mathutils.Vector) -> list[float]:
        """A world point in the picture's pixels (x right, y down; a pixel spans [i, i + 1])."""
        scene = bpy.context.scene
        ndc = world_to_camera_view(scene, self.obj, point)
        return [round(ndc.x * scene.render.resolution_x, 3), round((1.0 - ndc.y) * scene.render.resolution_y, 3)]


def setup_render(samples: int) -> None:
    scene = bpy.context.scene
    for engine in ("BLENDER_EEVEE_NEXT", "BLENDER_EEVEE"):
        try:
            scene.render.engine = engine
            break
        except TypeError:
            continue
    scene.eevee.taa_render_samples = samples
    # Cast shadows cost 5 s a frame more on software OpenGL (virtual shadow maps): the lights still
    # shade every surface, but nothing casts a shadow on the floor.
    scene.eevee.use_shadows = False
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"


def shoot_frame(path: Path, args: argparse.Namespace) -> bool:
    """Render one frame of a sequence unless it exists (or `--again`); False when `--truth-only`
    finds it missing (the sequence is not rendered yet)."""
    if args.truth_only and not path.exists():
        return False
    if not path.exists() or args.again:
        render_to(path)
    return True


def render_to(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.context.scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)


@dataclass
class Gait:
    """A procedural walk toward the camera (−y): feet planted in stance, the swing foot on an arc,
    the pelvis moving on at an even speed with a small bob and a sway over the stance foot."""

    height_m: float
    start_y: float
    steps: int
    fps: float
    cadence_steps_s: float = 1.8

    @property
    def step_m(self) -> float:
        return 0.37 * self.height_m

    @property
    def step_s(self) -> float:
        return 1.0 / self.cadence_steps_s

    @property
    def frames(self) -> int:
        return int(self.steps * self.step_s * self.fps)

    def stance_side(self, step: int) -> str:
        return "left" if step % 2 == 0 else "right"

    def at(self, t_s: float, ankle0: dict[str, mathutils.Vector], drop_deg: float) -> tuple[Stance, str, float]:
        """The stance at `t_s`, the stance side, and the added drop's share (0..1) of drop_deg."""
        step = min(int(t_s / self.step_s), self.steps - 1)
        u = t_s / self.step_s - step  # progress within this step
        stance = self.stance_side(step)
        swing = "right" if stance == "left" else "left"

        def planted(side: str, k: int) -> mathutils.Vector:
            """Where `side`'s foot lies during step k's stance (feet alternate, each a stride apart)."""
            y = self.start_y - (k + 0.5) * self.step_m
            return V((ankle0[side].x, y, ankle0[side].z))

        stance_at = planted(stance, step)
        swing_from, swing_to = planted(swing, step - 1), planted(swing, step + 1)
        swing_u = min(max((u - 0.1) / 0.8, 0.0), 1.0)  # double support at each end of the step
        eased = swing_u * swing_u * (3 - 2 * swing_u)
        swing_at = swing_from.lerp(swing_to, eased) + V((0, 0, 0.09 * self.height_m * math.sin(math.pi * swing_u)))
        y = self.start_y - (step + u) * self.step_m
        sway = (1.0 if stance == "left" else -1.0) * 0.025 * math.sin(math.pi * u)
        bob = 0.012 * (math.sin(math.pi * u) - 0.5)
        share = math.sin(math.pi * u) ** 2
        # the drop is on the swing side: left stance, right hip down (a negative roll)
        roll = (-1.0 if stance == "left" else 1.0) * drop_deg * share
        yaw = (1.0 if stance == "left" else -1.0) * 4.0 * math.cos(math.pi * u)
        feet = {stance: stance_at, swing: swing_at}
        swing_sign = 1.0 if stance == "left" else -1.0
        return Stance(shift=V((sway, y, bob)), roll_deg=roll, yaw_deg=yaw, feet=feet,
                      arm_swing_deg=swing_sign * 14.0 * math.cos(math.pi * u)), stance, share


@dataclass(frozen=True)
class Lift:
    """One rep of standing hip abduction: the leg out to `peak_deg` from the vertical (in space),
    with the lifted side's pelvis raised by `hike_deg` and the trunk leaning `lean_deg` over the
    standing leg at the top."""

    side: str
    peak_deg: float
    hike_deg: float = 0.0
    lean_deg: float = 0.0


REP_UP_S, REP_HOLD_S, REP_DOWN_S, REP_REST_S = 0.7, 0.4, 0.7, 0.7
STILL_S = 1.5
EXERCISE_SETS: dict[str, tuple[float | None, tuple[Lift, ...]]] = {
    # name: (camera distance in metres, None for the body's own; the reps)
    "ex_clean": (None, (Lift("left", 25), Lift("right", 12), Lift("left", 32), Lift("right", 20),
                        Lift("left", 13), Lift("right", 35), Lift("left", 19))),
    "ex_hike": (None, (Lift("right", 30), Lift("left", 31, hike_deg=3), Lift("right", 30, hike_deg=5),
                       Lift("left", 32, hike_deg=8), Lift("right", 29, hike_deg=8))),
    "ex_lean": (None, (Lift("left", 30, lean_deg=5), Lift("right", 31), Lift("right", 30, lean_deg=8),
                       Lift("left", 31, lean_deg=12), Lift("right", 29, lean_deg=12))),
    "ex_walkin": (None, (Lift("right", 28), Lift("left", 24, hike_deg=5))),
    "ex_far": (4.2, (Lift("left", 30), Lift("right", 22), Lift("left", 12))),
    "ex_near": (2.4, (Lift("right", 30), Lift("left", 22), Lift("right", 12))),
}
EXERCISE_MARKED = ("ex_hike", "ex_lean")
"""The sets also rendered with a strap (the reading a marker gives the coach)."""


def _smooth(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


class ExerciseSet:
    """A set of standing hip abduction, frame by frame: (optionally) a walk in, a still start,
    the reps, and (optionally) side steps away; with the truth of each frame and rep."""

    def __init__(self, poser: Poser, height_m: float, lifts: tuple[Lift, ...], fps: float, walk_in: bool) -> None:
        self.poser, self.lifts, self.fps = poser, lifts, fps
        self.gait = Gait(height_m, start_y=3.5 * 0.37 * height_m, steps=3, fps=fps) if walk_in else None
        self.walk_s = self.gait.steps * self.gait.step_s + 0.7 if self.gait else 0.0
        self.reps_from_s = self.walk_s + STILL_S
        rep_s = REP_UP_S + REP_HOLD_S + REP_DOWN_S + REP_REST_S
        self.reps_until_s = self.reps_from_s + len(lifts) * rep_s
        self.away_steps = 4 if walk_in else 0
        self.duration_s = self.reps_until_s + self.away_steps * 0.7

    @property
    def frames(self) -> int:
        return int(self.duration_s * self.fps)

    def reps_truth(self) -> list[dict[str, object]]:
        rep_s = REP_UP_S + REP_HOLD_S + REP_DOWN_S + REP_REST_S
        return [{"side": lift.side, "start_s": round(self.reps_from_s + k * rep_s, 4),
                 "end_s": round(self.reps_from_s + k * rep_s + REP_UP_S + REP_HOLD_S + REP_DOWN_S, 4),
                 "peak_leg_deg": lift.peak_deg, "hike_deg": lift.hike_deg, "lean_deg": lift.lean_deg}
                for k, lift in enumerate(self.lifts)]

    def at(self, t_s: float) -> tuple[Stance, str | None, float]:
        """The stance at `t_s`, the lifted side (None: both feet down or walking) and its leg's angle out."""
        p = self.poser
        if self.gait is not None and t_s < self.walk_s:
            gait_s = self.gait.steps * self.gait.step_s
            if t_s < gait_s:
                stance, side, _ = self.gait.at(t_s, p.ankle0, 0.0)
                return stance, None, 0.0
            # the stop: the trailing foot comes up beside the leading one, the pelvis over both
            end, side, _ = self.gait.at(gait_s, p.ankle0, 0.0)
            assert end.feet is not None and end.shift is not None
            u = _smooth((t_s - gait_s) / 0.6)
            trailing = "left" if side == "left" else "right"  # the stance foot of the last step is behind
            leading = "right" if trailing == "left" else "left"
            feet = {leading: end.feet[leading].lerp(p.ankle0[leading], u),
                    trailing: end.feet[trailing].lerp(p.ankle0[trailing], u) + V((0, 0, 0.06 * math.sin(math.pi * u)))}
            return Stance(shift=end.shift.lerp(V((0, 0, 0)), u), feet=feet), None, 0.0
        if t_s < self.reps_from_s:
            return Stance(), None, 0.0
        if t_s < self.reps_until_s:
            rep_s = REP_UP_S + REP_HOLD_S + REP_DOWN_S + REP_REST_S
            k = int((t_s - self.reps_from_s) / rep_s)
            lift = self.lifts[k]
            u = t_s - self.reps_from_s - k * rep_s
            if u < REP_UP_S:
                share = _smooth(u / REP_UP_S)
            elif u < REP_UP_S + REP_HOLD_S:
                share = 1.0
            else:
                share = 1.0 - _smooth((u - REP_UP_S - REP_HOLD_S) / REP_DOWN_S)
            return self._lift(lift, share), (lift.side if share > 0 else None), lift.peak_deg * share
        # side steps to the person's right (the picture's left), out of the set
        k = min(int((t_s - self.reps_until_s) / 0.7), self.away_steps - 1)
        u = (t_s - self.reps_until_s) / 0.7 - k
        step_m, lead_u, trail_u = 0.42, _smooth(u / 0.5), _smooth((u - 0.5) / 0.5)
        lead = p.ankle0["right"] + V((-step_m * (k + lead_u), 0, 0.05 * math.sin(math.pi * min(u / 0.5, 1.0))))
        trail = p.ankle0["left"] + V((-step_m * (k + trail_u), 0,
                                      0.05 * math.sin(math.pi * min(max((u - 0.5) / 0.5, 0.0), 1.0))))
        shift = V((-step_m * (k + 0.5 * (lead_u + trail_u)), 0, 0))
        return Stance(shift=shift, feet={"right": lead, "left": trail}), None, 0.0

    def _lift(self, lift: Lift, share: float) -> Stance:
        """The lifted leg's ankle on a circle about its (hiked) hip joint; the standing foot planted."""
        p = self.poser
        stand = "left" if lift.side == "right" else "right"
        # positive roll: the person's left goes down, so the right side rises (hike on the right)
        roll = (1.0 if lift.side == "right" else -1.0) * lift.hike_deg * share
        pivot = p.hip0[stand]
        hip = roll_about(pivot, roll) @ p.hip0[lift.side]
        out = (1.0 if lift.side == "right" else -1.0) * lift.peak_deg * share  # about world y: + takes -x down
        leg = p.ankle0[lift.side] - p.hip0[lift.side]
        ankle = hip + (M.Rotation(math.radians(out), 4, "Y") @ leg)
        lean = (1.0 if lift.side == "right" else -1.0) * lift.lean_deg * share  # + leans to the person's left
        return Stance(roll_deg=roll, pivot=pivot, lean_deg=lean, feet={stand: p.ankle0[stand], lift.side: ankle})


def render_body(spec: BodySpec, args: argparse.Namespace, entries: list[dict[str, object]]) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    setup_render(args.samples)
    build_room()
    body = Body(spec, args.bodies)
    poser = Poser(body)
    camera = Camera(spec, *args.size)
    markers = {"strap": add_strap(body, poser, spec.strap), "stick": add_stick(body, poser, spec.stick),
               "belt": add_strap(body, poser, ORDINARY_BELT[0], ORDINARY_BELT[1], 0.35, "belt")}
    out = args.out / spec.name
    only = set(args.only.split(",")) if args.only else None
    colors = {"none": None, "strap": spec.strap, "stick": spec.stick, "belt": None}

    def show(marker: str) -> None:
        for name, obj in markers.items():
            obj.hide_render = name != marker

    def shoot(name: str, condition: str, marker: str, param: float) -> None:
        path = out / f"{name}.png"
        if args.truth_only and not path.exists():
            return
        if not path.exists() or args.again:
            render_to(path)
        left, right = poser.hips_world()
        entries.append({"file": str(path.relative_to(args.out)), "body": spec.name, "split": spec.split,
                        "condition": condition, "marker": marker, "marker_color": colors[marker],
                        "param_deg": param, "frames": [{"left_hip_px": camera.pixel(left),
                                                        "right_hip_px": camera.pixel(right)}]})

    markers_wanted = [m for m in MARKERS if not args.marker or m in args.marker]
    for marker in markers_wanted:
        show(marker)
        if only is None or "standing" in only:
            for roll in STAND_ROLLS:
                poser.pose(Stance(roll_deg=roll))
                shoot(f"standing_{marker}_{roll:+.0f}", "standing", marker, roll)
        if marker in ("stick", "belt"):
            continue  # the stick and the ordinary belt: the roll and the walks; the other conditions are the strap's
        if only is None or "hike" in only:
            for hike in HIKES:
                # on the left leg, the right foot lifted, the right (swing) side of the pelvis raised
                lifted = poser.ankle0["right"] + V((0.0, -0.06, 0.08))
                poser.pose(Stance(roll_deg=hike, pivot=poser.hip0["left"],
                                  feet={"left": poser.ankle0["left"], "right": lifted}))
                shoot(f"hike_{marker}_{hike:+.0f}", "hike", marker, hike)
        if only is None or "lean" in only:
            for lean in LEANS:
                lifted = poser.ankle0["right"] + V((0.0, -0.06, 0.08))
                # the pelvis level on the left leg, the trunk leaning over it (toward the person's left)
                poser.pose(Stance(lean_deg=lean, feet={"left": poser.ankle0["left"], "right": lifted}))
                shoot(f"lean_{marker}_{lean:+.0f}", "lean", marker, lean)
        if only is None or "rigid" in only:
            poser.pose(Stance())
            for roll in CAMERA_ROLLS:
                camera.place(roll)
                shoot(f"rigid_{marker}_{roll:+.0f}", "rigid", marker, roll)
            camera.place(0.0)
    if only is not None and "exercise" in only:
        render_exercise(spec, args, poser, camera, out, show, colors, entries)
    if only is None or "walk" in only:
        gait = Gait(spec.height_m, start_y=2.6, steps=args.walk_steps, fps=args.fps)
        for marker in markers_wanted:
            show(marker)
            for drop in WALK_DROPS:
                frames = []
                folder = out / f"walk_{marker}_d{drop:.0f}"
                for index in range(gait.frames):
                    t_s = index / gait.fps
                    stance, side, share = gait.at(t_s, poser.ankle0, drop)
                    stance.pivot = _stance_hip_after(poser, stance, side)
                    poser.pose(stance)
                    if not shoot_frame(folder / f"{index:04d}.png", args):
                        break
                    left, right = poser.hips_world()
                    frames.append({"t_s": round(t_s, 4), "stance": side, "drop_share": round(share, 4),
                                   "left_hip_px": camera.pixel(left), "right_hip_px": camera.pixel(right)})
                if len(frames) < gait.frames:
                    continue  # not rendered yet (--truth-only)
                entries.append({"file": str(folder.relative_to(args.out)), "body": spec.name, "split": spec.split,
                                "condition": "walk", "marker": marker, "marker_color": colors[marker],
                                "param_deg": drop, "fps": gait.fps, "frames": frames})


def render_exercise(spec: BodySpec, args: argparse.Namespace, poser: Poser, camera: Camera, out: Path,
                    show: object, colors: dict[str, str | None], entries: list[dict[str, object]]) -> None:
    """Every exercise set, with no marker, and the hike and lean sets again with the strap."""
    for name, (distance, lifts) in EXERCISE_SETS.items():
        for marker in ("none", "strap"):
            if marker == "strap" and name not in EXERCISE_MARKED:
                continue
            if args.marker and marker not in args.marker:
                continue
            show(marker)  # type: ignore[operator]
            camera.place(0.0, distance_m=distance)
            program = ExerciseSet(poser, spec.height_m, lifts, args.fps, walk_in=name == "ex_walkin")
            folder = out / f"{name}_{marker}"
            frames = []
            for index in range(program.frames):
                t_s = index / args.fps
                stance, lifted, leg_deg = program.at(t_s)
                poser.pose(stance)
                if not shoot_frame(folder / f"{index:04d}.png", args):
                    break
                left, right = poser.hips_world()
                frames.append({"t_s": round(t_s, 4), "lifted": lifted, "leg_out_deg": round(leg_deg, 3),
                               "left_hip_px": camera.pixel(left), "right_hip_px": camera.pixel(right)})
            camera.place(0.0)
            if len(frames) < program.frames:
                continue
            entries.append({"file": str(folder.relative_to(args.out)), "body": spec.name, "split": spec.split,
                            "condition": "exercise", "set": name, "marker": marker, "marker_color": colors[marker],
                            "param_deg": 0.0, "fps": args.fps, "reps": program.reps_truth(), "frames": frames})


def _stance_hip_after(poser: Poser, stance: Stance, side: str) -> mathutils.Vector:
    """Where the stance hip is once the pelvis has moved by the stance's shift (before the roll)."""
    return poser.hip0[side] + (stance.shift or V((0, 0, 0)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=Path, required=True, help="a folder with the bodies' .glb files")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", help="conditions, comma-separated: standing,hike,lean,rigid,walk,exercise "
                        "(exercise only when named)")
    parser.add_argument("--body", action="append", help="only these bodies (by name)")
    parser.add_argument("--marker", action="append", choices=MARKERS,
                        help="only these markers (two runs with different markers can share a body's renders)")
    parser.add_argument("--size", type=lambda s: tuple(int(v) for v in s.split("x")), default=(960, 540))
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--walk-steps", type=int, default=5)
    parser.add_argument("--again", action="store_true", help="render pictures that exist again")
    parser.add_argument("--truth-only", action="store_true", help="render nothing: write the truth of the "
                        "pictures that exist (while another run renders the rest)")
    args = parser.parse_args(sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for spec in BODIES:
        if args.body and spec.name not in args.body:
            continue
        entries: list[dict[str, object]] = []
        render_body(spec, args, entries)
        write_truth(args.out / "truth.json", entries, args.size)
        print(f"render-bodies: {spec.name} done, {time.perf_counter() - started:.0f} s", flush=True)
    return 0


def write_truth(path: Path, entries: list[dict[str, object]], size: tuple[int, int]) -> None:
    """Merge these pictures' truth into `path` (replacing their earlier entries), atomically."""
    old = json.loads(path.read_text())["pictures"] if path.exists() else []
    keep = [e for e in old if e["file"] not in {n["file"] for n in entries}]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"size": list(size), "pictures": keep + entries}, indent=1) + "\n")
    temporary.replace(path)


if __name__ == "__main__":
    sys.exit(main())
