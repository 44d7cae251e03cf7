-- wrk script: GET /sample?n=1 with a new random seed on every request (no cache can answer).
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/sample?n=1&seed=" .. math.random(0, 2147483647))
end
