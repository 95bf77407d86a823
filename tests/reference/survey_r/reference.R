# Recomputes every figure in reference.json with R's survey package (Lumley).
library(survey)
data(api)
options(digits = 10)

dstrat   <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1   <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus2wr <- svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2)

# stratified sample
svymean(~api00, dstrat, deff = TRUE)
svymean(~api00, dstrat, deff = "replace")
svytotal(~enroll, dstrat, na.rm = TRUE)
svymean(~sch.wide, dstrat, deff = TRUE)

# one-stage cluster sample
svymean(~api00 + api99 + stype, dclus1, deff = TRUE)
svymean(~api00 + stype, dclus1, deff = "replace")
vcov(svymean(~api00 + stype, dclus1))
svytotal(~enroll, dclus1, deff = TRUE)
svytotal(~enroll + stype, dclus1)
svyratio(~api.stu, ~enroll, dclus1)
svyby(~ell + meals, ~stype, design = dclus1, svymean)

# domains as in a list experiment: difference of two domain means, jointly linearised
b <- svyby(~api00, ~sch.wide, dclus1, svymean, covmat = TRUE)
svycontrast(b, c(-1, 1))
b2 <- svyby(~api00, ~interaction(sch.wide, stype), dclus1, svymean, covmat = TRUE)
A <- rbind(c(-1, 1, 0, 0, 0, 0), c(0, 0, -1, 1, 0, 0), c(0, 0, 0, 0, -1, 1))
Vt <- A %*% vcov(b2) %*% t(A)
cbind(A %*% coef(b2), sqrt(diag(Vt)))
sqrt(Vt[1, 1] + Vt[2, 2] - 2 * Vt[1, 2])

# two-stage sample, with-replacement (ultimate cluster) variance
svymean(~api00, dclus2wr, deff = TRUE)
svytotal(~enroll, dclus2wr, na.rm = TRUE)

# single-PSU strata (survey/tests/lonely.psu.R)
ds <- svydesign(id = ~1, weights = ~pw, strata = ~dnum, data = apiclus1)
for (opt in c("remove", "adjust", "average")) {
  options(survey.lonely.psu = opt)
  print(svymean(~api00, ds))
}
options(survey.lonely.psu = "fail")
try(svymean(~api00, ds))

# design effects (survey/tests/deff.R, data from Takahiro Tsuchiya)
kigyo <- data.frame(uriage = c(15, 143, 21, 51, 337, 50, 274, 145, 15, 86),
                    srs.w = 100, pps.w = c(20, 200, 11, 25, 550, 30, 250, 100, 10, 55))
des.srs <- svydesign(ids = ~1, weights = ~srs.w, data = kigyo)
svymean(~uriage, des.srs, deff = TRUE)
svytotal(~uriage, des.srs, deff = TRUE)
des.pps <- svydesign(ids = ~1, weights = ~pps.w, data = kigyo)
svymean(~uriage, des.pps, deff = "replace")
svytotal(~uriage, des.pps, deff = "replace")
