# voltpeak's ggplot2 worker (voltpeak.render.programs): reads one JSON request per line on stdin, draws the
# plot it describes with ggplot2 into the PNG "out", and answers one JSON line: {"box": [x0, x1, y0, y1]}, the
# panel's edges in pixels from the top-left corner as grid placed them, or {"error": message}.
suppressPackageStartupMessages({
  library(ggplot2)
  library(jsonlite)
})

draw <- function(r) {
  df <- data.frame(E = unlist(lapply(r$curves, function(c) c$E)),
                   I = unlist(lapply(r$curves, function(c) c$I)),
                   k = unlist(lapply(seq_along(r$curves), function(i) seq_along(r$curves[[i]]$E))),
                   # by index, not label: two curves may share a legend label
                   curve = factor(unlist(lapply(seq_along(r$curves), function(i) rep(i, length(r$curves[[i]]$E)))),
                                  levels = seq_along(r$curves)))
  if (r$us) df$E <- -df$E  # potential decreasing to the right: the axis shows -x
  p <- ggplot(df, aes(E, I, colour = curve, group = curve)) +
    geom_path(linewidth = r$line_width, linetype = r$line_type, alpha = r$alpha) +
    scale_colour_manual(values = unlist(r$colours), labels = sapply(r$curves, function(c) c$label)) +
    labs(x = r$xlabel, y = r$ylabel, colour = NULL, title = if (nchar(r$title)) r$title else NULL)
  if (r$us) p <- p + scale_x_continuous(labels = function(b) format(-b, trim = TRUE))
  if (nchar(r$marker)) {
    marks <- df[(df$k - 1) %% r$marker_every == 0, ]
    p <- p + geom_point(data = marks, shape = as.integer(r$marker), size = r$marker_size)
  }
  theme_fn <- get(r$theme, asNamespace("ggplot2"))
  p <- p + theme_fn(base_size = r$font_size, base_family = r$font) +
    coord_cartesian(xlim = unlist(r$xlim), ylim = unlist(r$ylim), expand = FALSE)
  p <- p + theme(legend.position = if (nchar(r$legend)) r$legend else "none")
  png(r$out, width = r$width, height = r$height, res = r$dpi, type = "cairo", antialias = "default")
  print(p)
  grid::grid.force()  # keeps the layout's viewports, so the panel's can be found
  panel <- grep("^panel", grid::grid.ls(viewports = TRUE, grobs = FALSE, print = FALSE)$name, value = TRUE)[1]
  grid::seekViewport(panel)
  lo <- grid::deviceLoc(grid::unit(0, "npc"), grid::unit(0, "npc"), valueOnly = TRUE)
  hi <- grid::deviceLoc(grid::unit(1, "npc"), grid::unit(1, "npc"), valueOnly = TRUE)
  invisible(dev.off())
  # Inches from the bottom-left → pixels from the top-left.
  toJSON(list(box = c(lo$x * r$dpi, hi$x * r$dpi, r$height - hi$y * r$dpi, r$height - lo$y * r$dpi)), digits = NA)
}

con <- file("stdin", open = "r")
while (length(line <- readLines(con, n = 1)) > 0) {
  answer <- tryCatch(draw(fromJSON(line, simplifyVector = FALSE)),
                     error = function(e) toJSON(list(error = conditionMessage(e)), auto_unbox = TRUE))
  cat(answer, "\n", sep = "")
  flush(stdout())
}
