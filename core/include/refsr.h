/* refsr.h — the refsr engine: reference-based 4x super-resolution with the
 * Texture Transformer Network (TTSR, Yang et al., CVPR 2020).
 *
 * Copyright (C) 2026 the refsr authors.  GPL-3.0-or-later.
 *
 * This is the engine's whole public API, and the only header of the engine
 * that the command, the plug-in and the dialog may include (the build
 * enforces it: refsr_dep exposes this folder alone).  It knows nothing of
 * GIMP, GEGL or files of pixels: the caller hands in 8-bit RGB buffers and
 * gets an 8-bit RGB buffer 4x as large back (or, with options.tile_done,
 * the output tile by tile as it is made, so that no whole-image copy of it
 * need exist), plus the soft-attention map.
 *
 * Usage:
 *
 *     g_autoptr (GError) error = NULL;
 *     g_autoptr (RefsrModel) model = refsr_model_load_default (&error);
 *     RefsrImage lr  = { lr_pixels,  lr_w,  lr_h,  lr_w * 3 };
 *     RefsrImage ref = { ref_pixels, ref_w, ref_h, ref_w * 3 };
 *     atomic_int cancel = 0;               // raise it from any thread
 *     RefsrOptions options = REFSR_OPTIONS_INIT;
 *     options.n_threads = 4;
 *     options.progress = my_progress;      // optional
 *     options.cancel = &cancel;            // optional, polled
 *     g_autoptr (RefsrResult) result
 *         = refsr_run (model, &lr, &ref, &options, &error);
 *     ... result->pixels is 4*lr_w x 4*lr_h RGB8 ...
 *
 * Large images: options.max_memory bounds what a run allocates (the LR
 * image goes in tiles, the reference's features to a temporary file if
 * need be); refsr_estimate says beforehand what a run will take.  A
 * reference used for several images is prepared once with
 * refsr_reference_new.
 *
 * Threads: the engine runs OpenMP regions of options.n_threads threads
 * (at most one per processor) on the calling thread; it starts nothing
 * that outlives a call.  A model is immutable after loading and may be
 * shared by concurrent runs.
 *
 * Numerics follow the official PyTorch implementation in float32
 * (see ../shared/spec/TTSR.md and README.md for the measured deviations).
 */
#ifndef REFSR_H
#define REFSR_H

#include <stdatomic.h>

#include <glib.h>

G_BEGIN_DECLS

#define REFSR_ERROR (refsr_error_quark ())
GQuark refsr_error_quark (void);

typedef enum
{
  REFSR_ERROR_CANCELLED,     /* the caller's cancel flag was raised */
  REFSR_ERROR_INVALID_INPUT, /* image sizes the model cannot take */
  REFSR_ERROR_WEIGHTS,       /* a weights file is malformed or does not fit */
  REFSR_ERROR_NO_MEMORY,     /* an allocation failed */
  REFSR_ERROR_IO             /* a file could not be read or written */
} RefsrError;

/* The network's configuration, read from the weights. */
typedef struct
{
  int n_feats;          /* feature width of the main network (64 in TTSR) */
  int n_res_blocks[4];  /* ResBlocks in SFE, stage 1, stage 2, stage 3 */
} RefsrConfig;

typedef struct RefsrModel RefsrModel;

/* Loads weights from a safetensors file (F32, F16 or BF16) or an official
 * PyTorch checkpoint (legacy or zip format); the kind is told by content.
 * Every key and shape is checked against the architecture. */
RefsrModel *refsr_model_load (const char *path, GError **error);
/* Same, from memory (used by the fuzzers and for a built-in model).
 * The bytes are copied where needed; the caller keeps ownership. */
RefsrModel *refsr_model_load_from_data (const guint8 *data, gsize size,
                                        const char *name, GError **error);
void refsr_model_free (RefsrModel *model);
void refsr_model_get_config (const RefsrModel *model, RefsrConfig *config);

/* The file name of the built-in model. */
#define REFSR_DEFAULT_MODEL_NAME "refsr-default.safetensors"

/* Where the built-in model is, looked up in this order (the first that
 * exists wins):
 *   1. $REFSR_WEIGHTS, when set: a path (which must exist), or, set but
 *      empty, "no built-in model" (an error);
 *   2. REFSR_DEFAULT_MODEL_NAME in the folder of the running program (a
 *      per-user plug-in install keeps the model beside the plug-in);
 *   3. data/ of the source tree, when the program runs from the build
 *      folder it was built in (so a build works before it is installed);
 *   4. the data folder refsr was installed with (PREFIX/share/refsr);
 *   5. PROGRAM_DIR/../share/refsr, for an install moved to another prefix.
 * Returns a newly allocated path, or NULL with REFSR_ERROR_WEIGHTS saying
 * where it looked. */
char *refsr_default_model_path (GError **error);
/* refsr_model_load (refsr_default_model_path ()). */
RefsrModel *refsr_model_load_default (GError **error);

/* Writes the model's tensors as F32 safetensors under their canonical
 * names, in the architecture's order, without the "module." prefix and
 * the training-only tensors of official checkpoints: what `refsr convert`
 * makes of a .pt file.  Atomic: the file appears whole or not at all. */
gboolean refsr_model_save (const RefsrModel *model, const char *path,
                           GError **error);

/* The largest images refsr_run takes, in pixels (width × height).  The
 * LR image's limit keeps the output's pixel count within an int (as GEGL
 * and the image formats count it); tiles keep every feature map far
 * below it, whatever the image's size.  The reference's largest map holds
 * 64 values per pixel, indexed with int. */
#define REFSR_MAX_LR_PIXELS  ((gint64) G_MAXINT / 16)    /* 134 megapixels */
#define REFSR_MAX_REF_PIXELS ((gint64) G_MAXINT / 64)    /* 33.5 megapixels */
/* The largest tile side, in LR pixels: a tile and its context stay well
 * within int-indexed maps (64 channels at 4× the size). */
#define REFSR_MAX_TILE_SIZE 1024

/* An 8-bit RGB image, interleaved, rows rowstride bytes apart. */
typedef struct
{
  const guint8 *pixels;
  int width;
  int height;
  int rowstride;
} RefsrImage;

/* Called from the thread that called refsr_run, with fraction in [0, 1]
 * growing monotonically and a short untranslated stage name ("features",
 * "search", "transfer", "reconstruction"). */
typedef void (*RefsrProgressFunc) (double fraction, const char *stage,
                                   void *user_data);

/* A finished part of the output, handed to options.tile_done: the part of
 * the 4× image at (x, y), width × height pixels, in both of the engine's
 * forms.  Both buffers are the engine's and valid during the call only. */
typedef struct
{
  int x, y, width, height; /* in output pixels */
  const guint8 *pixels;    /* RGB8, rowstride width * 3 */
  const float *sr;         /* [3, height, width], in [-1, 1] */
} RefsrTile;

/* Copies the tile's 8-bit pixels to their place in an RGB8 image of the
 * output's size whose rows are rowstride bytes apart. */
void refsr_tile_copy_pixels (const RefsrTile *tile, guint8 *image,
                             gsize rowstride);

/* Takes one finished tile (to write it to a file, a GEGL buffer...);
 * FALSE with error set stops the run, which returns that error. */
typedef gboolean (*RefsrTileFunc) (const RefsrTile *tile, void *user_data,
                                   GError **error);

/* How the relevance search looks for each LR position's texture. */
typedef enum
{
  REFSR_SEARCH_AUTO,  /* exact while the exact search of the whole image
                       * costs at most REFSR_SEARCH_EXACT_MAX_MACS, fast
                       * above */
  REFSR_SEARCH_EXACT, /* every reference position, as TTSR does: cost
                       * grows with LR pixels × reference pixels */
  REFSR_SEARCH_FAST   /* a coarse exact search refined at full
                       * resolution (README "Search"): near-linear, the
                       * same patch as the exact one for nearly every
                       * position; deterministic, whatever n_threads */
} RefsrSearch;

/* Above this many multiply-accumulates (about ten seconds on two cores,
 * e.g. LR 240² against a 960² reference) REFSR_SEARCH_AUTO searches fast. */
#define REFSR_SEARCH_EXACT_MAX_MACS 1e12

/* Reference scales: each reference also joins the pool reduced by these
 * factors (Pillow's antialiased bicubic, as Ref↓ is made), so that a
 * reference shot at another zoom than the LR image still offers texture
 * at the LR's scale.  Scale 1 is never left out (refsr_ref_scales). */
#define REFSR_MAX_REF_SCALES 8
#define REFSR_REF_SCALES_AUTO (-1)
#define REFSR_MIN_SCALED_REF 64

typedef struct
{
  int n_threads;              /* <= 0: OpenMP's default; capped at the
                               * number of processors */
  RefsrProgressFunc progress; /* may be NULL */
  void *progress_data;
  const atomic_int *cancel;   /* may be NULL; non-zero cancels the run.
                               * Polled between layers, bands and search
                               * rows; setting it is async-signal-safe. */
  gboolean keep_textures;     /* fill idx and the T maps of the result
                               * (images of at most REFSR_MAX_TILE_SIZE²
                               * LR pixels) */
  int tile_size;              /* LR pixels per side of a tile (each is
                               * computed with context around it, see
                               * README "Tiles"), at most
                               * REFSR_MAX_TILE_SIZE; <= 0: chosen from
                               * max_memory */
  guint64 max_memory;         /* bytes the run may allocate at most (the
                               * tile size follows, and the reference's
                               * features go to a temporary file when they
                               * take more than their share); 0: no limit,
                               * the whole image is one tile (up to
                               * REFSR_MAX_TILE_SIZE) */
  RefsrTileFunc tile_done;    /* may be NULL.  When set, every tile of the
                               * output is handed to it once, in raster
                               * order, as soon as it is done, and the
                               * result holds neither pixels nor sr: the
                               * whole output is never in the engine's
                               * memory, nor counted in max_memory. */
  void *tile_data;
  RefsrSearch search;         /* REFSR_SEARCH_AUTO by default */
  int n_ref_scales;           /* 0: every reference as it is (scale 1
                               * alone, TTSR's way);
                               * REFSR_REF_SCALES_AUTO: refsr_ref_scales'
                               * choice; else the first n_ref_scales of
                               * ref_scales, each in (0, 1], in the
                               * pool's order */
  double ref_scales[REFSR_MAX_REF_SCALES];
} RefsrOptions;

/* The defaults, to be changed field by field after. */
#define REFSR_OPTIONS_INIT                                                   \
  { .n_threads = 0, .progress = NULL, .progress_data = NULL, .cancel = NULL, \
    .keep_textures = FALSE, .tile_size = 0, .max_memory = 0,                 \
    .tile_done = NULL, .tile_data = NULL, .search = REFSR_SEARCH_AUTO,     \
    .n_ref_scales = 0, .ref_scales = { 0 } }

/* The scales a width × height reference joins the pool at, under
 * options (NULL: the defaults), into scales (REFSR_MAX_REF_SCALES
 * entries); returns how many.  REFSR_REF_SCALES_AUTO is 1, 1/√2 and 1/2
 * (the pool's search and features cost at most 1.75 times those of the
 * reference alone), less those that would make the reference smaller
 * than REFSR_MIN_SCALED_REF; scales given in ref_scales are left out
 * only where the reference would be under 4×4.  Returns 0 with
 * REFSR_ERROR_INVALID_INPUT for a scale outside (0, 1], given twice, a
 * count out of range, or when no scale is left. */
int refsr_ref_scales (const RefsrOptions *options, int ref_width,
                      int ref_height, double *scales, GError **error);

typedef struct
{
  int width, height;   /* 4 * LR width, 4 * LR height */
  guint8 *pixels;      /* RGB8, rowstride width * 3 (NULL with tile_done) */
  float *sr;           /* [3, height, width], in [-1, 1] (NULL with
                        * tile_done) */
  int lr_width, lr_height;
  float *S;            /* [lr_height, lr_width]: relevance of the texture used */
  int ref_lv3_width, ref_lv3_height; /* reference grid searched (ref / 4);
                                      * of the first, in a pool */
  /* Only with keep_textures (NULL otherwise): */
  gint64 *idx;         /* [lr_height * lr_width], raster index into ref lv3;
                        * in a pool, into the pool's references one after
                        * the other, in order */
  float *t_lv3;        /* [256, lr_height, lr_width] */
  float *t_lv2;        /* [128, 2 lr_height, 2 lr_width] */
  float *t_lv1;        /* [64, 4 lr_height, 4 lr_width] */
} RefsrResult;

/* Enlarges lr 4x with texture from ref.  The reference may have any size of
 * at least 4x4 pixels; it is cropped to multiples of 4.  Returns NULL with
 * error set on failure; a cancelled run returns REFSR_ERROR_CANCELLED. */
RefsrResult *refsr_run (const RefsrModel *model, const RefsrImage *lr,
                        const RefsrImage *ref, const RefsrOptions *options,
                        GError **error);

/* A reference prepared once: everything the search and the texture
 * transfer take from it (its texture features at three scales and its
 * normalised search keys), built in strips so that building it never
 * holds the whole reference's float maps.  options->max_memory decides
 * the strips, and whether the features stay in memory or go to an
 * unlinked temporary file (the operating system pages them in as the
 * search and the transfer need them).  A prepared reference serves any
 * number of runs of the same model, one at a time; refsr_run prepares
 * one and frees it itself. */
typedef struct RefsrReference RefsrReference;

RefsrReference *refsr_reference_new (const RefsrModel *model,
                                     const RefsrImage *ref,
                                     const RefsrOptions *options,
                                     GError **error);
void refsr_reference_free (RefsrReference *reference);
/* The reference's size as used (cropped to multiples of 4). */
void refsr_reference_get_size (const RefsrReference *reference, int *width,
                               int *height);

/* A pool of references: every LR position takes the most relevant patch
 * of any of them (each at each of options' reference scales), each
 * keeping its own size and features.  Ties go to the earlier reference,
 * then the earlier scale.  With one reference and scale 1 alone it is
 * refsr_reference_new, bit for bit.  n_refs >= 1. */
RefsrReference *refsr_reference_new_pool (const RefsrModel *model,
                                          const RefsrImage *refs, int n_refs,
                                          const RefsrOptions *options,
                                          GError **error);
/* How many references (each scale counts as one) the pool holds. */
int refsr_reference_get_count (const RefsrReference *reference);

/* refsr_run with a pool of n_refs references (refsr_reference_new_pool). */
RefsrResult *refsr_run_pool (const RefsrModel *model, const RefsrImage *lr,
                             const RefsrImage *refs, int n_refs,
                             const RefsrOptions *options, GError **error);

/* refsr_run with a prepared reference (made with the same model). */
RefsrResult *refsr_run_with_reference (const RefsrModel *model,
                                       const RefsrImage *lr,
                                       RefsrReference *reference,
                                       const RefsrOptions *options,
                                       GError **error);
void refsr_result_free (RefsrResult *result);

/* A rectangle of the LR image, in LR pixels. */
typedef struct
{
  int x, y, width, height;
} RefsrRegion;

/* The part of a lr_width × lr_height image that refsr_run_region reads to
 * enlarge region: region grown by the context a tile carries (README
 * "Tiles"), clipped to the image.  FALSE with REFSR_ERROR_INVALID_INPUT
 * when region is empty or not wholly inside the image. */
gboolean refsr_region_context (int lr_width, int lr_height,
                               const RefsrRegion *region,
                               RefsrRegion *context, GError **error);

/* Enlarges only region of lr, for a preview: runs the part of lr that
 * refsr_region_context names against the prepared reference and keeps
 * region's part.  The result is region-sized (width = 4 × region->width,
 * lr_width = region->width, S region's; idx and the T maps NULL); its
 * pixels are within 2/255 of those a whole-image run with the same
 * reference and options gives there, away from that run's tile borders,
 * when both search exactly (a fast search may pick other, as relevant,
 * patches).  options->tile_done must be NULL. */
RefsrResult *refsr_run_region (const RefsrModel *model, const RefsrImage *lr,
                               const RefsrRegion *region,
                               RefsrReference *reference,
                               const RefsrOptions *options, GError **error);

/* Resizes in to width × height as Pillow's Image.resize (..., BICUBIC)
 * does, bit-exactly: a bicubic (a = -0.5) whose support widens with the
 * reduction, so that it antialiases; for a 2× or 3× result from the 4×
 * one.  out receives width × height × 3 bytes, packed rows.  FALSE with
 * REFSR_ERROR_NO_MEMORY when scratch memory cannot be had, or
 * REFSR_ERROR_INVALID_INPUT for an empty size. */
gboolean refsr_resize_rgb (const RefsrImage *in, guint8 *out, int width,
                           int height, GError **error);

/* Writes S, idx, T_lv3, T_lv2, T_lv1 and sr as safetensors with the names
 * and layouts of the TTSR parity fixtures (idx and the T maps need a run
 * with keep_textures).  Atomic, like refsr_model_save. */
gboolean refsr_result_save_tensors (const RefsrResult *result,
                                    const char *path, GError **error);

/* What refsr_run will do with these image sizes and options: the tile
 * size it will use (from options->tile_size, or the largest that fits
 * options->max_memory), the most memory it will allocate at once, and the
 * floating-point operations, the tiles' context included.  FALSE with
 * REFSR_ERROR_NO_MEMORY, saying what it would take, when the budget cannot
 * be met; refsr_run refuses such a run the same way before starting. */
typedef struct
{
  int tile_size;       /* LR pixels per tile side (max(w, h): one tile) */
  guint64 peak_bytes;
  double flops;
} RefsrEstimate;

gboolean refsr_estimate (const RefsrConfig *config, int lr_width,
                         int lr_height, int ref_width, int ref_height,
                         const RefsrOptions *options,
                         RefsrEstimate *estimate, GError **error);

/* The same for a pool of references of these sizes (refsr_run_pool). */
typedef struct
{
  int width, height;
} RefsrSize;

gboolean refsr_estimate_pool (const RefsrConfig *config, int lr_width,
                              int lr_height, const RefsrSize *refs,
                              int n_refs, const RefsrOptions *options,
                              RefsrEstimate *estimate, GError **error);

/* The machine's physical memory in bytes (4 GiB where it cannot be told),
 * for callers that set max_memory as a share of it. */
guint64 refsr_physical_memory (void);

/* The same for the whole image as one tile and no budget. */
guint64 refsr_estimate_memory (const RefsrConfig *config, int lr_width,
                               int lr_height, int ref_width, int ref_height);
double refsr_estimate_flops (const RefsrConfig *config, int lr_width,
                             int lr_height, int ref_width, int ref_height);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RefsrModel, refsr_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RefsrResult, refsr_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RefsrReference, refsr_reference_free)

G_END_DECLS

#endif /* REFSR_H */
