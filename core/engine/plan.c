/* plan.c — tile size, strips, peak memory and work of a run.
 * Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later */
#include "plan.h"

#include <unistd.h>

#include "lte.h"
#include "mainnet.h"
#include "reference.h"
#include "pool.h"
#include "search.h"
#include "search-fast.h"
#include "tiling.h"

#define MIN_TILE 16
#define MB (1024.0 * 1024.0)

guint64
refsr_physical_memory (void)
{
  long pages = sysconf (_SC_PHYS_PAGES);
  long page_size = sysconf (_SC_PAGESIZE);

  if (pages <= 0 || page_size <= 0)
    return G_GUINT64_CONSTANT (4) << 30;
  return (guint64) pages * (guint64) page_size;
}

double
refsr_search_macs (int h, int w, int H, int W)
{
  /* pixel-pair products plus the 9 shifted adds per patch pair */
  return (256.0 + 9.0) * h * w * (double) (H / 4) * (W / 4);
}

double
refsr_transfer_macs (int h, int w)
{
  return 16128.0 * h * w;
}

typedef struct
{
  const RefsrConfig *config;
  int w, h;             /* LR */
  const RefsrSize *members; /* the pool's references, cropped to
                             * multiples of 4 */
  int n_members;
  int W, H;             /* the widest and the tallest of them */
  int n_threads;
  gboolean fast;        /* the fast search, not the exact one */
  gboolean keep_textures;
  gboolean streamed;    /* tiles go to the caller: no whole output here */
  RefsrTileMargins margins;
  gboolean spill;       /* the reference's features in a spill file */
} Sizes;

/* What stays allocated from start to end: the output's float and 8-bit
 * copies unless tiles are handed out, S and the indices, the T maps when
 * they are kept; the model and the per-thread scratch of the
 * convolutions. */
static double
fixed_bytes (const Sizes *s)
{
  double p = (double) s->w * s->h;
  double textures = s->keep_textures ? 1792.0 * 4 * p : 0.0;
  double output = s->streamed ? 0.0 : 192.0 + 48.0;

  return (output + 12.0) * p + textures
         + 16.0 * MB * s->n_threads + 64.0 * MB;
}

static void
region_size (const Sizes *s, int tile, int margin, int *rw, int *rh)
{
  *rw = MIN (tile + 2 * margin, s->w);
  *rh = MIN (tile + 2 * margin, s->h);
}

/* The search pass over one tile: LR↑ of the tile and its margin (48
 * bytes per LR pixel, and 12 for the resize between its passes), its LTE
 * (about 2100 floats per LR pixel at its peak), the search's scratch for
 * the largest member (the exact one holds a padded copy of its keys) and
 * one member's indices and S besides the pool's. */
static double
search_tile_bytes (const Sizes *s, int tile)
{
  double scratch = 0.0;
  int rw, rh;

  region_size (s, tile, s->margins.search, &rw, &rh);
  for (int m = 0; m < s->n_members; m++)
    {
      int kh = s->members[m].height / 4, kw = s->members[m].width / 4;

      scratch = MAX (scratch,
                     s->fast ? (double) refsr_search_fast_scratch_bytes (
                                 256, rh, rw, kh, kw, s->n_threads)
                             : (double) refsr_search_scratch_bytes (
                                 256, rh, rw, kh, kw, s->n_threads));
    }
  return 2100.0 * 4 * rw * rh + (12.0 + 60.0 + 24.0) * rw * rh + scratch;
}

/* Multiply-accumulates of one tile's search against every member. */
static double
search_tile_macs (const Sizes *s, int rh, int rw)
{
  double macs = 0.0;

  for (int m = 0; m < s->n_members; m++)
    macs += s->fast ? refsr_search_fast_macs (rh, rw, s->members[m].height / 4,
                                              s->members[m].width / 4)
                    : refsr_search_macs (rh, rw, s->members[m].height,
                                         s->members[m].width);
  return macs;
}

/* Bytes of every member's features, and what their LTEs take. */
static double
pool_data_bytes (const Sizes *s)
{
  double bytes = 0.0;

  for (int m = 0; m < s->n_members; m++)
    bytes += refsr_reference_data_bytes (s->members[m].width,
                                         s->members[m].height);
  return bytes;
}

static double
pool_lte_macs (const Sizes *s)
{
  double macs = 0.0;

  for (int m = 0; m < s->n_members; m++)
    macs += 2.0 * refsr_lte_macs (s->members[m].height, s->members[m].width);
  return macs;
}

/* The reconstruction of one tile: its T maps (1792 floats per LR pixel)
 * and about six f-channel maps at 4× in the main network; then the tile's
 * own output in both forms (240 bytes per LR pixel), as it is handed
 * out. */
static double
reconstruct_tile_bytes (const Sizes *s, int tile)
{
  int rw, rh;

  region_size (s, tile, s->margins.reconstruct, &rw, &rh);
  return (1792.0 + 6.0 * s->config->n_feats * 16 + 48.0 + 8.0) * 4 * rw * rh
         + 240.0 * MIN (tile, s->w) * MIN (tile, s->h);
}

/* The reference's features in each pass.  On the heap they count whole.
 * Spilled, they are page cache of an unlinked file, which the kernel
 * writes back and drops under pressure instead of failing, and their
 * pages leave the resident set as soon as a pass is done with them (each
 * strip of the build; the keys once the search has copied them; each
 * block of channels once transferred; refsr_reference_data_release_pages
 * between tiles).  What counts is what a pass needs resident at once to
 * run without reading a page twice:
 *  - building: the member reduced to its scale and its Ref↓↑ (3 bytes a
 *    pixel each, on the heap the whole time) and one strip's rows of
 *    the four maps, written, then released; a partial page at either
 *    end of every channel's rows (704 channels);
 *  - searching: nothing; the search reads the keys once per tile, in
 *    order, into its padded copy, which search_tile_bytes counts;
 *  - reconstructing: the transfer goes through the channels block by
 *    block, one block per thread, never back to an earlier one, and a
 *    block is one channel or at most 2^18 floats (transfer.c): one lv1
 *    plane (W·H floats), or 1 MiB, per thread. */
typedef struct
{
  double build, search, reconstruct;
} ReferenceBytes;

static ReferenceBytes
reference_bytes (const Sizes *s, int strip_rows)
{
  double whole = pool_data_bytes (s);
  double pages = 704.0 * 2 * 4096;
  double plane = MAX (4.0 * s->W * s->H, MB);

  if (!s->spill)
    return (ReferenceBytes) { whole, whole, whole };
  return (ReferenceBytes) {
    6.0 * s->W * s->H + 512.0 * s->W * MIN (strip_rows, s->H) + pages,
    0.0, s->n_threads * plane };
}

static double
peak_bytes (const Sizes *s, int tile, int strip_rows)
{
  ReferenceBytes ref = reference_bytes (s, strip_rows);
  double build = ref.build + refsr_reference_strip_bytes (s->W, strip_rows);
  double search = ref.search + search_tile_bytes (s, tile);
  double rebuild = ref.reconstruct + reconstruct_tile_bytes (s, tile);

  return fixed_bytes (s) + MAX (build, MAX (search, rebuild));
}

static double
plan_macs (const Sizes *s, int tile)
{
  int nx = (s->w + tile - 1) / tile, ny = (s->h + tile - 1) / tile;
  double macs = pool_lte_macs (s);

  /* every tile as large as a full one: an upper bound for the edges */
  for (int pass = 0; pass < 2; pass++)
    {
      int margin = pass == 0 ? s->margins.search : s->margins.reconstruct;
      int rw, rh;

      region_size (s, tile, margin, &rw, &rh);
      if (pass == 0)
        macs += (double) nx * ny * (refsr_lte_macs (4 * rh, 4 * rw)
                                    + search_tile_macs (s, rh, rw));
      else
        macs += (double) nx * ny * (refsr_transfer_macs (rh, rw)
                                    + refsr_mainnet_macs (s->config, rh, rw));
    }
  return macs;
}

/* The largest member's sides: strips and the build's buffers follow
 * it. */
static void
largest_member (const RefsrSize *members, int n, int *W, int *H)
{
  *W = *H = 0;
  for (int m = 0; m < n; m++)
    {
      *W = MAX (*W, members[m].width / 4 * 4);
      *H = MAX (*H, members[m].height / 4 * 4);
    }
}

/* Reference rows per strip: the whole reference without a budget; with
 * one, strips whose LTE takes at most a quarter of it. */
int
refsr_plan_strip_rows (const RefsrSize *members, int n_members,
                       guint64 max_memory)
{
  int W, H, rows;

  largest_member (members, n_members, &W, &H);
  rows = H;
  while (max_memory > 0 && rows > 4
         && refsr_reference_strip_bytes (W, rows) > max_memory / 4.0)
    rows = MAX (rows / 2 / 4 * 4, 4);
  return rows;
}

gboolean
refsr_plan_spill_reference (const RefsrSize *members, int n_members,
                            guint64 max_memory)
{
  double bytes = 0.0;

  for (int m = 0; m < n_members; m++)
    bytes += refsr_reference_data_bytes (members[m].width, members[m].height);
  return max_memory > 0 && bytes > max_memory / 2.0;
}

/* "a 480×480 reference", or for a pool "references of 3.1 megapixels". */
static char *
describe_pool (const Sizes *s)
{
  double pixels = 0.0;

  if (s->n_members == 1)
    return g_strdup_printf ("a %d×%d reference", s->W, s->H);
  for (int m = 0; m < s->n_members; m++)
    pixels += (double) s->members[m].width * s->members[m].height;
  return g_strdup_printf ("references of %.1f megapixels in all scales",
                          pixels / 1e6);
}

static gboolean
refuse (const Sizes *s, double needed, guint64 max_memory, GError **error)
{
  g_autofree char *pool = describe_pool (s);

  g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
               "Enlarging %d×%d with %s needs at least "
               "%.0f MB even in tiles of %d pixels (the reference's "
               "features alone take %.0f MB%s), more than the memory budget "
               "of %.0f MB: raise the budget or use a smaller reference",
               s->w, s->h, pool, needed / MB, MIN_TILE, pool_data_bytes (s) / MB,
               s->spill ? ", kept in a temporary file" : "",
               max_memory / MB);
  return FALSE;
}

static gboolean
refuse_tile (const Sizes *s, int tile, double needed, guint64 max_memory,
             GError **error)
{
  g_autofree char *pool = describe_pool (s);

  g_set_error (error, REFSR_ERROR, REFSR_ERROR_NO_MEMORY,
               "In tiles of %d pixels, enlarging %d×%d with %s needs about "
               "%.0f MB, more than the memory budget of %.0f MB: use "
               "smaller tiles (or automatic ones) or raise the budget",
               tile, s->w, s->h, pool, needed / MB, max_memory / MB);
  return FALSE;
}

/* REFSR_SEARCH_AUTO: exact while the whole image's exact search costs at
 * most REFSR_SEARCH_EXACT_MAX_MACS. */
static gboolean
choose_fast_search (const Sizes *s, RefsrSearch search)
{
  double exact = 0.0;

  if (search != REFSR_SEARCH_AUTO)
    return search == REFSR_SEARCH_FAST;
  for (int m = 0; m < s->n_members; m++)
    exact += refsr_search_macs (s->h, s->w, s->members[m].height,
                                s->members[m].width);
  return exact > REFSR_SEARCH_EXACT_MAX_MACS;
}

gboolean
refsr_run_plan (const RefsrConfig *config, int lr_width, int lr_height,
                const RefsrSize *members, int n_members, int n_threads,
                const RefsrOptions *options, int spilled,
                RefsrRunPlan *plan, GError **error)
{
  g_autofree RefsrSize *cropped = g_new (RefsrSize, MAX (n_members, 1));
  Sizes s = { config, lr_width, lr_height, cropped, n_members, 0, 0,
              MAX (n_threads, 1), FALSE, options->keep_textures,
              options->tile_done != NULL, { 0 }, FALSE };
  int tile_size = options->tile_size;
  guint64 max_memory = options->max_memory;
  /* one tile, unless the image is larger than the largest tile */
  int whole = MIN (MAX (lr_width, lr_height), REFSR_MAX_TILE_SIZE);

  for (int m = 0; m < n_members; m++)
    cropped[m] = (RefsrSize) { members[m].width / 4 * 4,
                               members[m].height / 4 * 4 };
  largest_member (cropped, n_members, &s.W, &s.H);
  refsr_tile_margins (&s.margins);
  s.fast = plan->search_fast = choose_fast_search (&s, options->search);
  s.spill = spilled >= 0 ? spilled != 0
                         : refsr_plan_spill_reference (members, n_members,
                                                       max_memory);
  plan->spill_reference = s.spill;
  plan->strip_rows = refsr_plan_strip_rows (members, n_members, max_memory);
  if (tile_size > 0 || max_memory == 0)
    {
      plan->tile_size = tile_size > 0 ? MIN (tile_size, whole) : whole;
      if (max_memory > 0
          && peak_bytes (&s, plan->tile_size, plan->strip_rows) > max_memory)
        return refuse_tile (&s, plan->tile_size,
                            peak_bytes (&s, plan->tile_size, plan->strip_rows),
                            max_memory, error);
    }
  else if (peak_bytes (&s, whole, plan->strip_rows) <= max_memory)
    plan->tile_size = whole;
  else
    {
      int lo = MIN_TILE, hi = whole;

      if (peak_bytes (&s, lo, plan->strip_rows) > max_memory)
        return refuse (&s, peak_bytes (&s, lo, plan->strip_rows), max_memory,
                       error);
      while (hi - lo > 1)   /* the largest tile that fits */
        {
          int mid = (lo + hi) / 2;

          if (peak_bytes (&s, mid, plan->strip_rows) <= max_memory)
            lo = mid;
          else
            hi = mid;
        }
      plan->tile_size = lo;
    }
  plan->peak_bytes = peak_bytes (&s, plan->tile_size, plan->strip_rows);
  plan->macs = plan_macs (&s, plan->tile_size);
  return TRUE;
}
