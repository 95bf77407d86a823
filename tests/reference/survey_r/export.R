# Writes the data subsets in this folder from R survey's `api` data (run from this folder).
library(survey)
data(api)
keep <- c("cds", "snum", "stype", "dnum", "api00", "api99", "enroll", "api.stu",
          "ell", "meals", "sch.wide", "pw")
write.csv(apistrat[, c(keep, "fpc")], "apistrat.csv", row.names = FALSE)
write.csv(apiclus1[, c(keep, "fpc")], "apiclus1.csv", row.names = FALSE)
write.csv(apiclus2[, c(keep, "fpc1", "fpc2")], "apiclus2.csv", row.names = FALSE)
